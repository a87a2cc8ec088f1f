/**
 * A kafkajs Connection that connects again after its socket died in the middle of a response reads
 * the new socket's responses from a clean frame. kafkajs 2.2.4 kept the partial response's bytes
 * across sockets, so every later response of that Connection was misframed ("Response without
 * match", each request timed out): read-to-end.test.ts "rides out a broker restarted mid-read"
 * failed this way under load (session 23). A broker of our own here: its first connection answers a
 * request with a random prefix of the response and dies; the next answers in full, pipelined
 * requests included. Replay the cuts with FRAMING_SEED.
 */
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { FRESH_FRAMING, useFreshFraming } from '../../../kafka/connections';
import { mulberry32 } from '../../../simulator/prng';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Connection = require('kafkajs/src/network/connection');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const socketFactory = require('kafkajs/src/network/socketFactory');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const apiVersions = require('kafkajs/src/protocol/requests/apiVersions');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createLogger, LEVELS } = require('kafkajs/src/loggers');

interface KafkaConnection {
  connect(): Promise<unknown>;
  disconnect(): Promise<unknown>;
  send(protocol: object): Promise<{ apiVersions: { apiKey: number; minVersion: number; maxVersion: number }[] }>;
}

/** An ApiVersions v0 response to `correlationId`, listing `versions` (apiKey, min, max). */
function apiVersionsResponse(correlationId: number, versions: [number, number, number][]): Buffer {
  const body = Buffer.alloc(4 + 2 + 4 + versions.length * 6);
  let at = body.writeInt32BE(correlationId, 0);
  at = body.writeInt16BE(0, at);
  at = body.writeInt32BE(versions.length, at);
  for (const [key, min, max] of versions) {
    at = body.writeInt16BE(key, at);
    at = body.writeInt16BE(min, at);
    at = body.writeInt16BE(max, at);
  }
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/**
 * A broker that reads requests (size-prefixed; the correlation id at bytes 8-11) and answers each
 * with `answer(connectionIndex, correlationId)`: a Buffer to write, or a cut to write and then die.
 */
async function broker(
  answer: (connection: number, correlationId: number) => { write: Buffer; thenDie?: boolean },
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const index = connections++;
    let pending = Buffer.alloc(0);
    socket.on('data', (data) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const correlationId = pending.readInt32BE(8);
        pending = pending.subarray(4 + pending.readInt32BE(0));
        const { write, thenDie } = answer(index, correlationId);
        if (thenDie) {
          socket.write(write, () => socket.destroy()); // a broker killed while it answered
          return;
        }
        socket.write(write);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function connectionTo(port: number): KafkaConnection {
  return new Connection({
    host: '127.0.0.1',
    port,
    logger: createLogger({ level: LEVELS.NOTHING, logCreator: () => () => undefined }),
    socketFactory: socketFactory(),
    requestTimeout: 3_000,
    connectionTimeout: 3_000,
  });
}

const request = () => apiVersions.protocol({ version: 0 })();

beforeAll(() => useFreshFraming());

it('reads the next socket from a clean frame after a socket died mid-response, wherever the cut fell', async () => {
  const seed = process.env.FRAMING_SEED ? Number(process.env.FRAMING_SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`connection framing: seed ${seed} (replay with FRAMING_SEED=${seed})`);
  const random = mulberry32(seed);
  // the cuts inside and just after the size field, and one byte short of the end, then random ones
  const fixed = [1, 3, 4, 5, -1];
  for (let round = 0; round < fixed.length + 12; round++) {
    // the response cut: anywhere from one byte of its size field to one byte short of its end
    const entries = 1 + Math.floor(random() * 60);
    const full = apiVersionsResponse(
      0,
      Array.from({ length: entries }, (_, i) => [i, 0, 1 + (i % 5)]),
    );
    const chosen = fixed[round] ?? 1 + Math.floor(random() * (full.length - 1));
    const cut = chosen < 0 ? full.length + chosen : chosen;
    const served = await broker((connection, correlationId) => {
      const versions: [number, number, number][] = [[round, connection, correlationId]];
      if (connection === 0) return { write: full.subarray(0, cut), thenDie: true };
      return { write: apiVersionsResponse(correlationId, versions) };
    });
    let conn: KafkaConnection | undefined;
    try {
      conn = connectionTo(served.port);
      await conn.connect();
      await expect(conn.send(request())).rejects.toThrow(/Closed connection|Connection error/);
      await conn.connect();
      // two requests in flight at once on the new socket, answered in order
      const [a, b] = await Promise.all([conn.send(request()), conn.send(request())]);
      expect({ round, cut, got: [a.apiVersions, b.apiVersions] }).toEqual({
        round,
        cut,
        got: [[{ apiKey: round, minVersion: 1, maxVersion: 1 }], [{ apiKey: round, minVersion: 1, maxVersion: 2 }]],
      });
    } finally {
      await conn?.disconnect().catch(() => undefined);
      await served.close();
    }
  }
}, 60_000);

describe('who reads with fresh framing', () => {
  const fresh = () => (Connection.prototype as Record<symbol, unknown>)[FRESH_FRAMING];

  it('every client createKafka builds, and every read without a group (readCluster)', () => {
    // each test file has its own kafkajs modules: unpatched until a client of ours is made
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('kafkajs/src/network/connection');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { createKafka } = require('../../../kafka/client');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { silentLogger } = require('../../../kernel/logger');
      expect(isolated.prototype[FRESH_FRAMING]).toBeUndefined();
      createKafka({ brokers: ['127.0.0.1:9'], clientId: 'framing' }, silentLogger);
      expect(isolated.prototype[FRESH_FRAMING]).toBe(true);
    });
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('kafkajs/src/network/connection');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Kafka } = require('kafkajs');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { readCluster } = require('../../../kafka/read-cluster');
      expect(isolated.prototype[FRESH_FRAMING]).toBeUndefined();
      readCluster(new Kafka({ brokers: ['127.0.0.1:9'], clientId: 'framing' }));
      expect(isolated.prototype[FRESH_FRAMING]).toBe(true);
    });
    expect(fresh()).toBe(true); // this file's own, by beforeAll
  });
});
