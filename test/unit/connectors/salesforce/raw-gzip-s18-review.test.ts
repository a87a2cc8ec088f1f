/**
 * Adversarial review of session 18's raw gzip (raw-gzip.ts, http.ts body()): edge cases against Node's
 * fetch as the oracle, exits, aborts, timeouts, the proxy path, memory. Replay: RAW_GZIP_REVIEW_SEED=<n>.
 */
import { createHook } from 'node:async_hooks';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as zlib from 'node:zlib';
import { createProxy } from 'proxy';
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { TransportError } from '../../../../connectors/salesforce/http';
import { proxiedFetch, proxyRoute } from '../../../../connectors/salesforce/proxy';
import { ConnectorError } from '../../../../kernel/errors';
import { HANDOVER, Inflater, keepGzipHeaders, RAW_ENCODING_HEADER } from '../../../../connectors/salesforce/raw-gzip';
import { mulberry32 } from '../../../../simulator/prng';
import { startPageServer, type Outcome, type PageReply, type PageServer } from '../../../support/gzip-pages';

const SEED = Number(process.env.RAW_GZIP_REVIEW_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`raw-gzip-s18-review: RAW_GZIP_REVIEW_SEED=${SEED}`);

type Reply = PageReply;
let pages: PageServer;
beforeAll(async () => {
  pages = await startPageServer();
});
afterAll(() => pages.stop());

function sameAsFetch(a: Outcome, b: Outcome, label: string): void {
  const show = (o: Outcome) => (o.ok ? { ok: true, bytes: o.bytes.toString('latin1') } : { ok: false });
  expect({ label, ...show(a) }).toEqual({ label, ...show(b) });
}

const gz = (s: string | Buffer, level = 6) => zlib.gzipSync(s, { level });

/** What reading `chunks` to its end threw (undefined when it ended well). */
async function failureOf(chunks: AsyncIterable<Uint8Array>): Promise<unknown> {
  try {
    for await (const _ of chunks);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('raw gzip, adversarial review (s18)', () => {
  // ---- equivalence with fetch on fixed edge cases ----
  const cases: [string, () => Reply][] = [
    ['empty body, gzip coding', () => ({ headers: { 'Content-Encoding': 'gzip' }, parts: [] })],
    [
      'two members, the second in a later piece',
      () => ({ headers: { 'Content-Encoding': 'gzip' }, parts: [gz('a,b\n'), gz('c,d\n')] }),
    ],
    [
      'two members split mid header',
      () => {
        const b = Buffer.concat([gz('a,b\n'), gz('c,d\n')]);
        const at = gz('a,b\n').length + 3;
        return { headers: { 'Content-Encoding': 'gzip' }, parts: [b.subarray(0, at), b.subarray(at)] };
      },
    ],
    [
      'garbage after the member, same piece',
      () => ({ headers: { 'Content-Encoding': 'gzip' }, parts: [Buffer.concat([gz('a\n'), Buffer.from('garbage')])] }),
    ],
    [
      'garbage after the member, later piece',
      () => ({ headers: { 'Content-Encoding': 'gzip' }, parts: [gz('a\n'), Buffer.from('garbage')] }),
    ],
    [
      'zero padding then garbage, later pieces',
      () => ({
        headers: { 'Content-Encoding': 'gzip' },
        parts: [gz('a\n'), Buffer.from([0, 0]), Buffer.from('garbage')],
      }),
    ],
    [
      'zero padding then a member, same piece',
      () => ({
        headers: { 'Content-Encoding': 'gzip' },
        parts: [Buffer.concat([gz('a\n'), Buffer.from([0]), gz('b\n')])],
      }),
    ],
    ['gzip, identity', () => ({ headers: { 'Content-Encoding': 'gzip, identity' }, parts: [gz('a\n')] })],
    ['identity', () => ({ headers: { 'Content-Encoding': 'identity' }, parts: [Buffer.from('a\n')] })],
    ['deflate', () => ({ headers: { 'Content-Encoding': 'deflate' }, parts: [zlib.deflateSync('a\n')] })],
    ['br', () => ({ headers: { 'Content-Encoding': 'br' }, parts: [zlib.brotliCompressSync('a\n')] })],
    ['gzip twice (two headers)', () => ({ headers: { 'Content-Encoding': ['gzip', 'gzip'] }, parts: [gz(gz('a\n'))] })],
    [
      'gzip and identity headers',
      () => ({ headers: { 'Content-Encoding': ['gzip', 'identity'] }, parts: [gz('a\n')] }),
    ],
    ['padded " gzip "', () => ({ headers: { 'Content-Encoding': ' gzip ' }, parts: [gz('a\n')] })],
    [
      'gzip on a 404 JSON',
      () => ({
        status: 404,
        headers: { 'Content-Encoding': 'gzip' },
        parts: [gz('[{"errorCode":"NOT_FOUND","message":"x"}]')],
      }),
    ],
  ];
  it.each(cases)('%s: as Node fetch', async (label, make) => {
    const reply = make();
    const path = pages.serve(reply);
    const [a, b] = [await pages.ours(path, { timeoutMs: 3_000 }), await pages.oracle(path, 2_000)];
    if (reply.status && reply.status >= 400) {
      expect(a.ok).toBe(false);
      if (!a.ok) expect((a.error as ConnectorError).code).toBe('SALESFORCE_NOT_FOUND');
      return;
    }
    sameAsFetch(a, b, label);
  });

  it('a 4xx gzip error body is parsed (its errorCode), not read as bytes', async () => {
    const path = pages.serve({
      status: 400,
      headers: { 'Content-Encoding': 'gzip', 'Content-Type': 'application/json' },
      parts: [gz('[{"errorCode":"INVALIDJOB","message":"bad job"}]')],
    });
    const got = await pages.ours(path);
    expect(got.ok).toBe(false);
    if (!got.ok) expect(String((got.error as Error).message)).toContain('bad job');
  });

  // ---- exits ----
  it('a consumer leaving after the first piece frees the connection at once', async () => {
    const plain = Buffer.alloc(4 << 20, 'a,b,c\n');
    const body = gz(plain, 1);
    const path = pages.serve({
      headers: { 'Content-Encoding': 'gzip' },
      parts: [body.subarray(0, 4096), body.subarray(4096, 8192)],
      hold: true,
    });
    const res = await pages.client().stream({ method: 'GET', path, repeatable: true, what: 'page' });
    for await (const c of res.chunks) {
      expect(c.length).toBeGreaterThan(0);
      break;
    }
    const left = Date.now();
    for (let i = 0; i < 100 && !pages.closedAt.has(path); i++) await new Promise((r) => setTimeout(r, 10));
    expect(pages.closedAt.get(path)! - left).toBeLessThan(500);
  });

  it('cancellation mid gzip body gives EXTRACTION_CANCELLED', async () => {
    const path = pages.serve({
      headers: { 'Content-Encoding': 'gzip' },
      parts: [gz('a,b\n'.repeat(1000)).subarray(0, 100)],
      hold: true,
    });
    const ac = new AbortController();
    const res = await pages.client().stream({ method: 'GET', path, repeatable: true, what: 'page', signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    const err = await failureOf(res.chunks);
    expect((err as ConnectorError).code).toBe('EXTRACTION_CANCELLED');
  });

  it('a stalled gzip body gives SALESFORCE_TIMEOUT', async () => {
    const path = pages.serve({
      headers: { 'Content-Encoding': 'gzip' },
      parts: [gz('a,b\n'.repeat(1000)).subarray(0, 100)],
      hold: true,
    });
    const res = await pages.client({ timeoutMs: 500 }).stream({ method: 'GET', path, repeatable: true, what: 'page' });
    const err = await failureOf(res.chunks);
    expect((err as ConnectorError).code).toBe('SALESFORCE_TIMEOUT');
  });

  it('a 204 with a gzip coding leaves no zlib handle open', async () => {
    const open = new Set<number>();
    const hook = createHook({
      init: (id, type) => void (type === 'ZLIB' && open.add(id)),
      destroy: (id) => void open.delete(id),
    }).enable();
    try {
      const path = pages.serve({ status: 204, headers: { 'Content-Encoding': 'gzip' }, parts: [] });
      const got = await pages.ours(path);
      expect(got.ok).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      expect({ zlibHandlesOpen: open.size }).toEqual({ zlibHandlesOpen: 0 });
    } finally {
      hook.disable();
    }
  });

  // ---- secrets ----
  it('a damaged gzip body: the message has neither the token nor the body', async () => {
    const body = Buffer.from(gz('token-SECRET,SECRETROW\n'.repeat(50), 0));
    body[40] ^= 0x55;
    const path = pages.serve({ headers: { 'Content-Encoding': 'gzip' }, parts: [body] });
    const got = await pages.ours(path);
    expect(got.ok).toBe(false);
    if (!got.ok) {
      expect(got.error).toBeInstanceOf(TransportError);
      expect(String((got.error as Error).message)).not.toMatch(/SECRET/);
    }
  });

  // ---- proxy ----
  it('through a real HTTP proxy, random gzip pages read as Node fetch reads them direct', async () => {
    const proxyServer = createProxy(http.createServer());
    const psockets = new Set<Socket>();
    proxyServer.on('connection', (s: Socket) => {
      psockets.add(s);
      s.on('close', () => psockets.delete(s));
    });
    await new Promise<void>((r) => proxyServer.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxyServer.address() as AddressInfo).port}`;
    try {
      const rnd = mulberry32(SEED);
      const fetchFn = proxiedFetch(proxyRoute({ url: proxyUrl }, {}));
      for (let round = 0; round < 6; round++) {
        const plain = Buffer.from(
          Array.from({ length: Math.floor(rnd() * 50_000) }, () => String(rnd()).slice(2, 6)).join(','),
        );
        const body = gz(plain, Math.floor(rnd() * 10));
        const cut = Math.floor(rnd() * body.length);
        const path = pages.serve({
          headers: { 'Content-Encoding': 'gzip' },
          parts: [body.subarray(0, cut), body.subarray(cut)],
        });
        const got = await pages.ours(path, { fetchFn });
        const label = `round ${round}, RAW_GZIP_REVIEW_SEED=${SEED}`;
        expect({ label, ok: got.ok, same: got.ok && got.bytes.equals(plain) }).toEqual({ label, ok: true, same: true });
      }
    } finally {
      for (const s of psockets) s.destroy();
      await new Promise((r) => proxyServer.close(r));
    }
  });

  // ---- memory ----
  it('one socket read of a highly compressed page is not inflated whole before the consumer reads on', async () => {
    // 256 MB of commas, gzip'd without holding them: ~260 KB (~1000:1; a CSV of empty fields is not far off)
    const gzip = zlib.createGzip({ level: 9 });
    const gzParts: Buffer[] = [];
    gzip.on('data', (b: Buffer) => gzParts.push(b));
    const commas = Buffer.alloc(1 << 20, 0x2c);
    for (let i = 0; i < 256; i++) gzip.write(commas);
    await new Promise((r) => gzip.end(r));
    const path = pages.serve({ headers: { 'Content-Encoding': 'gzip' }, parts: [Buffer.concat(gzParts)], hold: true });
    const held = () => process.memoryUsage().arrayBuffers;
    const before = held();
    const res = await pages.client().stream({ method: 'GET', path, repeatable: true, what: 'page' });
    const it = res.chunks[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    // the consumer is busy with its first piece; what does the client hold meanwhile?
    await new Promise((r) => setTimeout(r, 300));
    const heldMiB = Math.round((held() - before) / 2 ** 20);
    await it.return(undefined);
    // Node's fetch, paused the same way, holds ~2 MiB (its 16 KiB chunks under backpressure)
    expect({ heldMiB, ok: heldMiB < 32 }).toEqual({ heldMiB, ok: true });
  });

  it('random exits (leave early, cancel, damaged, cut): zlib destroyed, no unhandled error, no secret', async () => {
    const rnd = mulberry32(SEED + 7);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    // every Inflater that saw a piece, to check that its zlib stream was destroyed
    const seen = new Set<Inflater>();
    const push = Inflater.prototype.push;
    const spy = jest.spyOn(Inflater.prototype, 'push').mockImplementation(function (this: Inflater, piece) {
      seen.add(this);
      return push.call(this, piece) as never;
    });
    const undestroyed = () =>
      [...seen].filter((i) => !(i as unknown as { gunzip: { destroyed: boolean } }).gunzip.destroyed).length;
    try {
      for (let round = 0; round < 25; round++) {
        const label = `round ${round}, RAW_GZIP_REVIEW_SEED=${SEED}`;
        const plain = Buffer.from(
          Array.from({ length: 1 + Math.floor(rnd() * 200_000) }, () =>
            rnd() < 0.5 ? ',' : String(rnd()).slice(2, 5),
          ).join(''),
        );
        let body = Buffer.from(gz(plain, Math.floor(rnd() * 10)));
        const fault = Math.floor(rnd() * 3);
        if (fault === 1) body[10 + Math.floor(rnd() * (body.length - 18))] ^= 0x5a;
        if (fault === 2) body = body.subarray(0, Math.floor(rnd() * body.length));
        const parts: Buffer[] = [];
        for (let at = 0; at < body.length;) {
          const n = 1 + Math.floor(rnd() * 40_000);
          parts.push(body.subarray(at, at + n));
          at += n;
        }
        const hold = rnd() < 0.5;
        const path = pages.serve({ headers: { 'Content-Encoding': 'gzip' }, parts, hold });
        const ac = new AbortController();
        const leaveAfter = Math.floor(rnd() * 4);
        const cancelAt = rnd() < 0.3 ? Math.floor(rnd() * 20) : -1;
        if (cancelAt >= 0) setTimeout(() => ac.abort(), cancelAt);
        try {
          const res = await pages.client({ timeoutMs: 300 }).stream({
            method: 'GET',
            path,
            repeatable: true,
            what: 'page',
            signal: ac.signal,
          });
          let n = 0;
          for await (const _ of res.chunks) if (++n > leaveAfter) break;
        } catch (e) {
          expect({ label, connectorError: e instanceof ConnectorError }).toEqual({ label, connectorError: true });
          expect({ label, secret: /SECRET/.test(String((e as Error).message)) }).toEqual({ label, secret: false });
        }
        await new Promise((r) => setTimeout(r, 30));
        expect({ label, undestroyed: undestroyed() }).toEqual({ label, undestroyed: 0 });
      }
      expect(seen.size).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 100));
      expect(unhandled).toEqual([]);
    } finally {
      spy.mockRestore();
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUnhandled);
    }
  });

  it('a 64 MB page of commas (~1000:1) reads whole, in pieces of HANDOVER bytes', async () => {
    const plain = Buffer.alloc(64 << 20, 0x2c);
    const body = gz(plain, 9);
    const path = pages.serve({
      headers: { 'Content-Encoding': 'gzip' },
      parts: [body.subarray(0, 1000), body.subarray(1000)],
    });
    const res = await pages.client().stream({ method: 'GET', path, repeatable: true, what: 'page' });
    let size = 0;
    let most = 0;
    for await (const c of res.chunks) {
      size += c.length;
      most = Math.max(most, c.length);
      expect(c.every((b) => b === 0x2c)).toBe(true);
    }
    expect({ size, most }).toEqual({ size: plain.length, most: HANDOVER });
  });

  it('a global dispatcher set later (setGlobalDispatcher) is used, with gzip still kept and inflated', async () => {
    const previous = getGlobalDispatcher();
    let dispatched = 0;
    class Counting extends Agent {
      override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
        dispatched++;
        return super.dispatch(opts, handler);
      }
    }
    const counting = new Counting();
    const fetchFn = proxiedFetch(proxyRoute(undefined, {}));
    try {
      const first = await pages.ours(pages.serve({ headers: { 'Content-Encoding': 'gzip' }, parts: [gz('a,b\n')] }), {
        fetchFn,
      });
      setGlobalDispatcher(counting);
      const plain = Buffer.alloc(300_000, 'x,y\n');
      const got = await pages.ours(pages.serve({ headers: { 'Content-Encoding': 'GZIP' }, parts: [gz(plain)] }), {
        fetchFn,
      });
      expect(first.ok && first.bytes.toString()).toBe('a,b\n');
      expect(got.ok && got.bytes.equals(plain)).toBe(true);
      expect(dispatched).toBe(1);
    } finally {
      setGlobalDispatcher(previous);
      await counting.close();
    }
  });

  it('keepGzipHeaders: string headers, several codings, the marker sent by the server', () => {
    const show = (raw: (Buffer | string)[]) => keepGzipHeaders(raw).map(String);
    expect(show(['Content-Encoding', ' X-Gzip '])).toEqual([RAW_ENCODING_HEADER, 'gzip']);
    expect(show(['content-encoding', 'gzip', 'Content-Encoding', 'gzip'])).toEqual([
      'content-encoding',
      'gzip',
      'Content-Encoding',
      'gzip',
    ]);
    expect(show([RAW_ENCODING_HEADER.toUpperCase(), 'gzip', 'a', 'b'])).toEqual(['a', 'b']);
    expect(show(['Content-Encoding', 'gzip, br'])).toEqual(['Content-Encoding', 'gzip, br']);
  });
});
