/**
 * Every Salesforce call goes through the proxy when one applies: token requests (jsforce's
 * transport), describe, Bulk jobs and result pages. A real HTTP proxy server (the `proxy` npm
 * package) runs on loopback; the requests it carried are read from its client connections (the
 * simulator speaks plain HTTP, so tunnelled requests are readable) and compared with the
 * simulator's own request log.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createProxy } from 'proxy';
import type { Simulator } from '../../../../simulator/api';
import { drain, extractor, memoryLogger, startSim } from './sim-helpers';

interface RunningProxy {
  url: string;
  /** Request lines seen inside the proxy's client connections (CONNECT and tunnelled ones). */
  lines: string[];
  close(): Promise<void>;
}

async function startProxy(credentials?: { username: string; password: string }): Promise<RunningProxy> {
  const server = createProxy(createServer()) as Server & {
    authenticate?: (req: { headers: Record<string, unknown> }) => boolean;
  };
  const lines: string[] = [];
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString('latin1').matchAll(/^(GET|POST|PATCH|DELETE|CONNECT) (\S+) HTTP\/1\.1/gm))
        lines.push(`${m[1]} ${m[2]}`);
    });
  });
  if (credentials) {
    const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    server.authenticate = (req) => req.headers['proxy-authorization'] === expected;
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    lines,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const ENV_KEYS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
let saved: Record<string, string | undefined>;
let sim: Simulator;
beforeAll(async () => {
  sim = await startSim({ users: 60, logins: 80 });
});
afterAll(() => sim.close());
beforeEach(() => {
  saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
});
afterEach(() => {
  for (const k of ENV_KEYS)
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
});

/** Salesforce requests the simulator answered from `from` on, as "METHOD path" (no query string). */
const simCalls = (from: number) => sim.requests.slice(from).map((r) => `${r.method} ${r.path.split('?')[0]}`);
/**
 * Requests the proxy carried, tunnelled (inside a CONNECT) or forwarded (absolute-form, as jsforce 3.10.26 sends
 * its token request).
 */
const tunnelled = (p: RunningProxy) =>
  p.lines.filter((l) => !l.startsWith('CONNECT')).map((l) => l.replace(/^(\w+) https?:\/\/[^/]+/, '$1 ').split('?')[0]);

describe('proxies', () => {
  it('salesforce proxy (with credentials): every call, the token request included, goes through it', async () => {
    const proxy = await startProxy({ username: 'sf-connector', password: 'Proxy-Secret-42' });
    try {
      const { logger, lines } = memoryLogger();
      const from = sim.requests.length;
      const ex = extractor(
        sim,
        { pageSize: 20, proxy: { url: proxy.url, username: 'sf-connector', password: 'Proxy-Secret-42' } },
        { logger },
      );
      const users = await drain(ex.users());
      expect(users.error).toBeUndefined();
      expect(users.rows.map((r) => r.Id).sort()).toEqual(sim.userIds());
      expect(tunnelled(proxy)).toContain('POST /services/oauth2/token');
      expect(tunnelled(proxy).sort()).toEqual(simCalls(from).sort());
      expect(proxy.lines.some((l) => l.startsWith('CONNECT 127.0.0.1:'))).toBe(true);
      expect(JSON.stringify(lines)).not.toContain('Proxy-Secret-42');
    } finally {
      await proxy.close();
    }
  });

  it('HTTP(S)_PROXY from the environment is used, and NO_PROXY exempts a host', async () => {
    const proxy = await startProxy();
    try {
      process.env.HTTP_PROXY = proxy.url;
      process.env.HTTPS_PROXY = proxy.url;
      const from = sim.requests.length;
      const got = await drain(extractor(sim).users());
      expect(got.error).toBeUndefined();
      expect(tunnelled(proxy).sort()).toEqual(simCalls(from).sort());
      expect(tunnelled(proxy)).toContain('POST /services/oauth2/token');

      proxy.lines.length = 0;
      process.env.NO_PROXY = 'example.com,127.0.0.1';
      const direct = await drain(extractor(sim).users());
      expect(direct.error).toBeUndefined();
      expect(proxy.lines).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('wrong proxy credentials fail clearly, without the password in the message', async () => {
    const proxy = await startProxy({ username: 'sf-connector', password: 'Proxy-Secret-42' });
    try {
      const ex = extractor(sim, {
        retryAttempts: 1,
        proxy: { url: proxy.url, username: 'sf-connector', password: 'Wrong-Proxy-Pass' },
      });
      const err = await ex.connect().then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/proxy/i);
      expect(err?.message).not.toContain('Wrong-Proxy-Pass');
    } finally {
      await proxy.close();
    }
  });
});
