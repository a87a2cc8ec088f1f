import * as net from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/**
 * A kafkajs socket factory that lies about produce responses, in process, on loopback: the broker
 * appended a request's records, and the client reads that one of its partitions failed with a
 * retriable error (NOT_LEADER_OR_FOLLOWER, as a partition whose leader moved, or that a broker
 * has not finished creating, answers). kafkajs then retries the send; what that does to the
 * producer's sequence numbers is what the tests of this file's users look at.
 *
 * `fault(n, topic)` decides for the n-th produce response (0-based) whose first partition succeeded,
 * of all the sockets this factory made, whose first topic is `topic` (a response with an error of
 * the broker's own passes as it is, uncounted). A fault rewrites that partition's error code, in
 * place: the frame keeps its length. `faulted` counts the rewritten responses, `produces` the ones
 * `fault` was asked about.
 */
export interface ProduceFault {
  socketFactory: ISocketFactory;
  readonly faulted: number;
  readonly produces: number;
}

const PRODUCE = 0;
const NOT_LEADER_OR_FOLLOWER = 6;

export function produceFault(fault: (n: number, topic: string) => boolean): ProduceFault {
  let produces = 0;
  let faulted = 0;
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    // correlation id -> API key and version, from the requests this socket wrote (kafkajs writes a
    // request in one buffer: size, api key, api version, correlation id, ...)
    const sent = new Map<number, { key: number; version: number }>();
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (Buffer.isBuffer(chunk) && chunk.length >= 12) {
        sent.set(chunk.readInt32BE(8), { key: chunk.readInt16BE(4), version: chunk.readInt16BE(6) });
      }
      return write(chunk, ...rest);
    }) as typeof socket.write;
    // responses: reassembled into whole frames (size, correlation id, body), rewritten, passed on
    let pending = Buffer.alloc(0);
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event !== 'data') return emit(event, ...args);
      pending = Buffer.concat([pending, args[0] as Buffer]);
      let end = 0;
      while (pending.length - end >= 4 && pending.length - end >= 4 + pending.readInt32BE(end)) {
        const size = pending.readInt32BE(end);
        const req = sent.get(pending.readInt32BE(end + 4));
        if (req?.key === PRODUCE && req.version >= 3) {
          sent.delete(pending.readInt32BE(end + 4));
          // body: [topics] (int32 count; name int16 length + bytes; [partitions] int32 count;
          // partition int32, error code int16, ...)
          const nameLength = pending.readInt16BE(end + 12);
          const topic = pending.toString('utf8', end + 14, end + 14 + nameLength);
          const errorAt = end + 14 + nameLength + 4 + 4;
          if (pending.readInt16BE(errorAt) === 0 && fault(produces++, topic)) {
            pending.writeInt16BE(NOT_LEADER_OR_FOLLOWER, errorAt);
            faulted++;
          }
        }
        end += 4 + size;
      }
      if (end === 0) return true;
      const frames = pending.subarray(0, end);
      pending = Buffer.from(pending.subarray(end));
      return emit('data', frames);
    }) as typeof socket.emit;
    return socket;
  };
  return {
    socketFactory,
    get faulted() {
      return faulted;
    },
    get produces() {
      return produces;
    },
  };
}
