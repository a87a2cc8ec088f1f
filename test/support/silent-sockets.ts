import * as net from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/**
 * A kafkajs socket factory whose sockets can go silent: from then on a silent socket delivers
 * nothing and stays open (a broker paused or wedged, a NAT or firewall that dropped the
 * connection's state, a peer gone without a FIN). Sockets made later work normally.
 * - `silence()`: every socket open now goes silent; returns how many.
 * - `silenceAtRequest(apiKey)`: every open socket goes silent when a request of that API key is
 *   first written (e.g. 2, ListOffsets), that request's own socket included.
 * - `firstSilent`: the first socket made is silent from its start (a read's first connect).
 */
export interface SilentSockets {
  socketFactory: ISocketFactory;
  silence(): number;
  silenceAtRequest(apiKey: number): void;
  /** How many sockets went silent so far, and how many were made. */
  readonly silenced: number;
  readonly made: number;
}

export function silenceableSockets(opts: { firstSilent?: boolean } = {}): SilentSockets {
  const open = new Set<net.Socket>();
  const silent = new WeakSet<net.Socket>();
  let made = 0;
  let silenced = 0;
  let trigger: number | undefined;
  const silence = () => {
    for (const s of open) {
      if (silent.has(s)) continue;
      silent.add(s);
      silenced++;
    }
    return open.size;
  };
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    if (made++ === 0 && opts.firstSilent) {
      silent.add(socket);
      silenced++;
    }
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      // kafkajs writes a request in one buffer: size (4 bytes), API key (2), version, correlation id, ...
      if (trigger !== undefined && Buffer.isBuffer(chunk) && chunk.length >= 6 && chunk.readInt16BE(4) === trigger) {
        trigger = undefined;
        silence();
      }
      return write(chunk, ...rest);
    }) as typeof socket.write;
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) =>
      event === 'data' && silent.has(socket) ? true : emit(event, ...args)) as typeof socket.emit;
    return socket;
  };
  return {
    socketFactory,
    silence,
    silenceAtRequest: (apiKey) => void (trigger = apiKey),
    get silenced() {
      return silenced;
    },
    get made() {
      return made;
    },
  };
}
