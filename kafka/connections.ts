/**
 * What this client does to kafkajs's connections beyond kafkajs itself (pinned 2.2.4): the
 * sockets it closes on purpose, and a Broker connect that can fail without leaving the Broker
 * broken for good.
 */

const ON_PURPOSE = 'closed on purpose by this client: ';

/**
 * The error a socket is destroyed with when this client closes it itself: kafkajs logs each at
 * ERROR ("Connection error: …"), which client.ts's kafkaLogLevel lowers to debug by this prefix.
 */
export function closedOnPurpose(why: string): Error {
  return new Error(`${ON_PURPOSE}${why}`);
}

/** Whether a kafkajs log message is about a socket this client closed itself. */
export function isClosedOnPurpose(message: string): boolean {
  return message.includes(ON_PURPOSE);
}

interface PooledSockets {
  connectionPool?: { pool?: { socket?: { destroy(error?: Error): void } }[] };
}

/** Destroys every socket of `brokers` with closedOnPurpose(`why`): kafkajs reconnects at the next request. */
export function closeSockets(brokers: readonly (PooledSockets | undefined)[], why: string): void {
  const closed = closedOnPurpose(why);
  for (const b of brokers) for (const connection of b?.connectionPool?.pool ?? []) connection.socket?.destroy(closed);
}

interface KafkajsBroker {
  connect(): Promise<void>;
  versions?: object | null;
  connectionPool?: { pool?: { socket?: { destroy(error?: Error): void } }[] };
}

const PATCHED = Symbol.for('sf-neurons:versioned-connect');

/**
 * A kafkajs Broker whose connect failed before it had the broker's API versions (its ApiVersions
 * request timed out on a connection gone silent: a broker paused, a NAT that dropped the
 * connection) closes its connections. kafkajs's Broker.connect returns at once on a connection
 * that is up, so the retrier's next connect returned without versions, and every request of that
 * Broker then failed with a plain Error('Broker not connected'), not an outage: a read at once
 * (read-to-end-silent-review-s17.test.ts), the connector's producer and admin in every later run
 * of the process (producer-silent-connect-s17.test.ts). Closed, the next connect opens a
 * connection and asks again. Installed once on kafkajs's Broker class (every client of the
 * process: the producers, consumers, admins and reads).
 */
export function useVersionedConnect(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Broker = require('kafkajs/src/broker') as { prototype: KafkajsBroker & { [PATCHED]?: true } };
  const proto = Broker.prototype;
  if (proto[PATCHED]) return;
  const connect = proto.connect;
  proto.connect = async function (this: KafkajsBroker) {
    try {
      await connect.call(this);
    } catch (err) {
      if (!this.versions) closeSockets([this], 'connecting to the broker failed before its API versions were known');
      throw err;
    }
  };
  proto[PATCHED] = true;
}

interface KafkajsConnection {
  isConnected(): boolean;
  connect(): Promise<unknown>;
  socket?: import('node:net').Socket;
  /** The bytes of the response being read (kafkajs's framing state: src/network/connection.js). */
  chunks: Buffer[];
  bytesBuffered: number;
  bytesNeeded: number;
}

/** The mark useFreshFraming leaves on kafkajs's Connection prototype (true once installed). */
export const FRESH_FRAMING = Symbol.for('sf-neurons:fresh-framing');
const FRESH = FRESH_FRAMING;
/** A response's size field: the bytes kafkajs waits for before it knows a frame's length. */
const SIZE_FIELD = 4;

/**
 * A kafkajs Connection that connects again reads its new socket from a clean frame. kafkajs 2.2.4
 * keeps what it had received of a response (`chunks`, `bytesBuffered`, `bytesNeeded`) across
 * sockets: when a socket died mid-response (a broker killed or restarted while it answered a
 * fetch, a connection reset, a socket this client closed after a timeout), the next socket's first
 * response was read as the rest of that one, and from then on every response of the Connection was
 * misframed ("Response without match", a RangeError in its data handler), so each request timed out
 * until the process ended: a read then failed at its deadline (read-to-end.test.ts "rides out a
 * broker restarted mid-read", 3 runs in 8 under load; connection-framing-s23.test.ts). The old
 * socket, ended or destroyed, is also cut off from the Connection first: its late data, end or error
 * would be taken as the new socket's (kafkajs's end handler rejects the requests in flight and
 * disconnects). A socket still connecting (two connects at once) is left to kafkajs, as before.
 * Installed once on kafkajs's Connection class (every client of the process).
 */
export function useFreshFraming(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Connection = require('kafkajs/src/network/connection') as {
    prototype: KafkajsConnection & { [FRESH]?: true };
  };
  const proto = Connection.prototype;
  if (proto[FRESH]) return;
  const connect = proto.connect;
  proto.connect = function (this: KafkajsConnection) {
    const old = this.socket;
    if (!this.isConnected() && (!old || old.destroyed || old.writableEnded)) {
      if (old) {
        for (const event of ['data', 'end', 'error', 'timeout']) old.removeAllListeners(event);
        old.on('error', () => undefined); // a dead socket's last error goes nowhere
        old.destroy();
      }
      this.chunks = [];
      this.bytesBuffered = 0;
      this.bytesNeeded = SIZE_FIELD;
    }
    return connect.call(this);
  };
  proto[FRESH] = true;
}
