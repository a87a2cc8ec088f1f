/**
 * A local server of Bulk result pages, written as a test tells it (status, headers, the body in parts,
 * the connection held open or ended), and two readers of a page: the product's client (SalesforceHttp over
 * proxiedFetch, as extract.ts builds it) and Node's fetch, the oracle of raw-gzip.ts's tests.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Session, SessionProvider } from '../../connectors/salesforce/auth';
import { ApiBudget } from '../../connectors/salesforce/budget';
import { SalesforceHttp, type FetchFn } from '../../connectors/salesforce/http';
import { proxiedFetch, proxyRoute } from '../../connectors/salesforce/proxy';
import { silentLogger } from '../../kernel/logger';

export interface PageReply {
  status?: number;
  headers: Record<string, string | string[]>;
  /** Written one after the other, a turn of the event loop apart. */
  parts: Buffer[];
  /** Keep the connection open after the last part. */
  hold?: boolean;
}

/** A page read: its bytes and the sizes of the pieces it came in, or the error. */
export type Outcome = { ok: true; bytes: Buffer; sizes: number[] } | { ok: false; error: unknown };

export interface PageServer {
  /** http://127.0.0.1:port, the session's instance URL. */
  base: string;
  /** Serves `reply` at a new path, returned. */
  serve(reply: PageReply): string;
  /** Per path: when the server saw its request's socket close. */
  closedAt: Map<string, number>;
  /** The product's client of this server (its token: `token-SECRET`). */
  client(opts?: { timeoutMs?: number; fetchFn?: FetchFn }): SalesforceHttp;
  /** A page read to its end by the product's client. */
  ours(path: string, opts?: { timeoutMs?: number; fetchFn?: FetchFn }): Promise<Outcome>;
  /** A page read to its end by Node's fetch; a body silent for `silentMs` counts as failed (its decoder may wait). */
  oracle(path: string, silentMs?: number): Promise<Outcome>;
  stop(): Promise<void>;
}

export async function startPageServer(): Promise<PageServer> {
  const replies = new Map<string, PageReply>();
  const sockets = new Set<Socket>();
  const closedAt = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    const reply = replies.get(url);
    if (!reply) {
      res.writeHead(404).end();
      return;
    }
    res.once('close', () =>
      req.socket.destroyed
        ? closedAt.set(url, Date.now())
        : req.socket.once('close', () => closedAt.set(url, Date.now())),
    );
    res.writeHead(reply.status ?? 200, reply.headers);
    void (async () => {
      for (const part of reply.parts) {
        if (res.destroyed) return;
        res.write(part);
        await new Promise((r) => setImmediate(r));
      }
      if (!reply.hold) res.end();
    })();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const session: Session = {
    accessToken: 'token-SECRET',
    instanceUrl: base,
    orgId: '00D000000000001AAA',
    generation: 1,
  };
  const auth: SessionProvider = {
    session: async () => session,
    refresh: async () => session,
    secrets: () => ['token-SECRET'],
  };
  const client: PageServer['client'] = (opts = {}) =>
    new SalesforceHttp({
      auth,
      budget: new ApiBudget({ reserve: 0 }),
      logger: silentLogger,
      fetch: opts.fetchFn ?? proxiedFetch(proxyRoute(undefined, {})),
      requestTimeoutMs: opts.timeoutMs ?? 10_000,
      retryAttempts: 1,
      retryInitialMs: 1,
    });
  let served = 0;

  return {
    base,
    closedAt,
    client,
    serve(reply) {
      const path = `/services/data/v62.0/jobs/query/750/results?n=${served++}`;
      replies.set(path, reply);
      return path;
    },
    async ours(path, opts = {}) {
      const sizes: number[] = [];
      const parts: Buffer[] = [];
      try {
        const res = await client(opts).stream({
          method: 'GET',
          path,
          repeatable: true,
          what: 'page',
          accept: 'text/csv',
        });
        for await (const c of res.chunks) {
          sizes.push(c.length);
          parts.push(Buffer.from(c));
        }
        return { ok: true, bytes: Buffer.concat(parts), sizes };
      } catch (error) {
        return { ok: false, error };
      }
    },
    async oracle(path, silentMs = 3_000) {
      try {
        const res = await fetch(base + path, { headers: { 'Accept-Encoding': 'gzip' } });
        const reader = res.body!.getReader();
        const parts: Buffer[] = [];
        for (;;) {
          let timer: NodeJS.Timeout | undefined;
          const silent = new Promise<'silent'>((r) => (timer = setTimeout(() => r('silent'), silentMs)));
          const r = await Promise.race([reader.read(), silent]).finally(() => clearTimeout(timer));
          if (r === 'silent') {
            void reader.cancel().catch(() => undefined);
            return { ok: false, error: new Error('silent body') };
          }
          if (r.done) return { ok: true, bytes: Buffer.concat(parts), sizes: [] };
          parts.push(Buffer.from(r.value));
        }
      } catch (error) {
        return { ok: false, error };
      }
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
