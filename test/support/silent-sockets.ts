import * as net from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/**
 * A kafkajs socket factory whose open sockets can all be silenced at once: from then on they
 * deliver nothing and stay open (a broker paused or wedged, a NAT or firewall that dropped the
 * connection's state, a peer gone without a FIN). Sockets made later work normally. `silence()`
 * returns how many it silenced.
 */
export function silenceableSockets(): { socketFactory: ISocketFactory; silence(): number } {
  const open = new Set<net.Socket>();
  const silent = new WeakSet<net.Socket>();
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) =>
      event === 'data' && silent.has(socket) ? true : emit(event, ...args)) as typeof socket.emit;
    return socket;
  };
  return {
    socketFactory,
    silence: () => {
      for (const s of open) silent.add(s);
      return open.size;
    },
  };
}
