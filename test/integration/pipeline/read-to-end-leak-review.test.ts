import * as net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { freePort } from '../../../kernel/net';

/**
 * Review (s11-rev-reads): readToEnd's deadline while its cluster is still connecting. The read
 * races `cluster.connect()` against the deadline (pipeline/kafka/read-to-end.ts:86, inTime), and
 * on the deadline awaits `cluster.disconnect()` in its finally (read-to-end.ts:115). But kafkajs's
 * BrokerPool.connect (node_modules/kafkajs/src/cluster/brokerPool.js:91-110) is a retrier that, on
 * a KafkaJSConnectionError (also the one the disconnect itself causes), makes a NEW seed broker and
 * connects again: after readToEnd has rejected and "disconnected", the connect goes on, and a
 * connection it opens is never closed. (refreshMetadata, read-to-end.ts:107, reaches the same
 * retrier through findConnectedBroker when no broker is connected: a broker down mid-read.) And
 * the disconnect waits for the hung request (kafkajs Connection.disconnect waits for pending
 * requests): the read rejects at its requestTimeout (30 s), not at its 1.5 s deadline.
 *
 * A "broker" of the test's own on 127.0.0.1 (nothing of the shared services is used). The read
 * must fail with READ_TO_END_TIMEOUT at its deadline and leave nothing behind: no socket of this
 * process still open on that broker, no connection opened after the read failed.
 */
interface Broker {
  port: number;
  listen(): Promise<void>;
  accepted: number;
  open: Set<net.Socket>;
  close(): Promise<void>;
}

/** A TCP server that accepts and never answers (a hung broker, a proxy whose upstream is down). */
function silentBroker(port: number): Broker {
  const open = new Set<net.Socket>();
  const b: Broker = {
    port,
    accepted: 0,
    open,
    listen: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: async () => {
      for (const s of open) s.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = net.createServer((s) => {
    b.accepted++;
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => undefined);
    // it reads what it is sent (and never answers): a socket left unread never sees its peer close
    s.resume();
  });
  return b;
}

function client(port: number): Kafka {
  return new Kafka({
    clientId: 'read-to-end-leak-review',
    brokers: [`127.0.0.1:${port}`],
    connectionTimeout: 5_000,
    requestTimeout: 30_000, // as kafka/client.ts createKafka
    logLevel: logLevel.NOTHING,
  });
}

async function failedRead(kafka: Kafka, deadlineMs: number): Promise<{ code?: string; ms: number }> {
  const t0 = Date.now();
  const code = await readToEnd(kafka, 'any-topic', () => undefined, undefined, { deadlineMs }).then(
    () => 'resolved',
    (e: unknown) => (e as { code?: string }).code,
  );
  return { code, ms: Date.now() - t0 };
}

it('a silent broker: fails at its deadline, no connection left open or opened after', async () => {
  const broker = silentBroker(await freePort());
  await broker.listen();
  try {
    const failed = await failedRead(client(broker.port), 1_500);
    const acceptedAtFailure = broker.accepted;
    await new Promise((resolve) => setTimeout(resolve, 4_000)); // kafkajs's retrier waits ~300 ms and more
    expect({
      code: failed.code,
      rejectedWithin5s: failed.ms < 5_000, // the deadline is 1.5 s
      openSockets: broker.open.size,
      newConnectionsAfterFailure: broker.accepted - acceptedAtFailure,
    }).toEqual({ code: 'READ_TO_END_TIMEOUT', rejectedWithin5s: true, openSockets: 0, newConnectionsAfterFailure: 0 });
  } finally {
    await broker.close();
  }
}, 90_000);

it('a broker down at the deadline and back just after: no connection opened after the read failed', async () => {
  const broker = silentBroker(await freePort()); // not listening yet: connection refused
  try {
    const failed = await failedRead(client(broker.port), 1_000);
    await broker.listen(); // the broker comes back right after the run gave up
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect({
      code: failed.code,
      openSockets: broker.open.size,
      connectionsAfterFailure: broker.accepted,
    }).toEqual({ code: 'READ_TO_END_TIMEOUT', openSockets: 0, connectionsAfterFailure: 0 });
  } finally {
    await broker.close();
  }
}, 90_000);
