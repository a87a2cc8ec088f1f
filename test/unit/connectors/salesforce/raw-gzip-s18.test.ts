/**
 * The Bulk result pages' gzip, read by the product's client (SalesforceHttp over proxiedFetch, as extract.ts
 * builds it) from a local server, against Node's fetch as the oracle (what http.ts read before session 18).
 *
 *   - the same bytes, or both fail and ours is a TransportError, on random bodies: gzip'd at random levels,
 *     written in random parts, two members, trailing bytes, cut, damaged, not gzip'd, codings in any case;
 *   - a page's body comes in pieces of at most 16 KiB, as fetch's did (the memory a parsed row can pin);
 *   - a damaged gzip body on a connection that stays open fails at once, not at requestTimeoutMs;
 *   - a header a server sends under our marker's name does not make us inflate a plain body.
 *
 * Replay: RAW_GZIP_S18_SEED=<n>.
 */
import * as zlib from 'node:zlib';
import { TransportError } from '../../../../connectors/salesforce/http';
import { mulberry32 } from '../../../../simulator/prng';
import { startPageServer, type PageReply, type PageServer } from '../../../support/gzip-pages';

const SEED = Number(process.env.RAW_GZIP_S18_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`raw-gzip-s18: RAW_GZIP_S18_SEED=${SEED}`);

/** What the server answers: headers, then the parts with a pause between, then end or hold the connection. */
let pages: PageServer;
beforeAll(async () => {
  pages = await startPageServer();
});
afterAll(() => pages.stop());

function csvText(rnd: () => number, bytes: number): Buffer {
  const words = ['true', 'false', '"Zoë Ångström"', '005000000000001AAA', '2024-01-02T03:04:05.000Z', '北京', '', 'x'];
  const out: string[] = [];
  let size = 0;
  while (size < bytes) {
    const w = rnd() < 0.05 ? String(rnd()).slice(2) : words[Math.floor(rnd() * words.length)];
    out.push(w, rnd() < 0.05 ? '\n' : ',');
    size += Buffer.byteLength(w) + 1;
  }
  return Buffer.from(out.join(''));
}

function split(rnd: () => number, bytes: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 64 : 96 * 1024));
    parts.push(bytes.subarray(at, at + n));
    at += n;
  }
  return parts;
}

function randomReply(rnd: () => number): { reply: PageReply; kind: string } {
  const plain = csvText(rnd, Math.floor(rnd() ** 2 * 600_000));
  const level = Math.floor(rnd() * 10);
  let body: Buffer = zlib.gzipSync(plain, { level });
  let kind = `gzip-${level} ${plain.length} B`;
  const r = rnd();
  if (r < 0.1) {
    body = Buffer.concat([body, zlib.gzipSync(csvText(rnd, 2000))]);
    kind += ', two members';
  } else if (r < 0.18) {
    body = Buffer.concat([body, Buffer.from([0, 0, 0, 7, 9])]);
    kind += ', trailing bytes';
  } else if (r < 0.3 && body.length > 30) {
    body = body.subarray(0, Math.floor(rnd() * body.length));
    kind += ', cut';
  } else if (r < 0.42 && body.length > 30) {
    body = Buffer.from(body);
    const at = 10 + Math.floor(rnd() * (body.length - 18));
    body[at] ^= 1 + Math.floor(rnd() * 255);
    kind += `, damaged at ${at}`;
  } else if (r < 0.5) {
    body = plain;
    kind += ', not gzip (no coding)';
  }
  const coding = body === plain ? null : ['gzip', 'GZIP', 'x-gzip', 'Gzip'][Math.floor(rnd() * 4)];
  const headers: Record<string, string> = { 'Content-Type': 'text/csv' };
  if (coding) headers['Content-Encoding'] = coding;
  return { reply: { headers, parts: split(rnd, body) }, kind: `${kind}${coding ? `, coding ${coding}` : ''}` };
}

describe('a Bulk page read by the product client (raw-gzip-s18)', () => {
  it('gives the bytes Node fetch gives, or fails where it fails, with a TransportError', async () => {
    const rnd = mulberry32(SEED);
    for (let round = 0; round < Number(process.env.RAW_GZIP_S18_ROUNDS ?? 40); round++) {
      const { reply, kind } = randomReply(rnd);
      const path = pages.serve(reply);
      const t0 = Date.now();
      if (process.env.RAW_GZIP_S18_DEBUG) process.stderr.write(`round ${round} ${kind}\n`);
      const [a, b] = [await pages.ours(path, { timeoutMs: 3_000 }), await pages.oracle(path)];
      if (process.env.RAW_GZIP_S18_DEBUG)
        console.log(round, kind, Date.now() - t0, a.ok, b.ok, a.ok ? '' : String(a.error));
      const label = `round ${round} (${kind}), RAW_GZIP_S18_SEED=${SEED}`;
      if (b.ok) {
        expect({ label, ok: a.ok }).toEqual({ label, ok: true });
        if (a.ok) expect({ label, same: a.bytes.equals(b.bytes) }).toEqual({ label, same: true });
      } else {
        expect({ label, ok: a.ok }).toEqual({ label, ok: false });
        if (!a.ok) expect({ label, transport: a.error instanceof TransportError }).toEqual({ label, transport: true });
      }
    }
  }, 120_000);

  // zlib inflates 256 KiB at a time (fewer trips through libuv's pool: bench/page-inflate.ts measures it);
  // the pieces handed over stay fetch's 16 KiB, the CSV text a parsed row's fields can hold alive
  it('hands a large page over exactly, in pieces of at most 16 KiB', async () => {
    const plain = csvText(mulberry32(SEED), 1_500_000);
    const path = pages.serve({
      headers: { 'Content-Encoding': 'gzip' },
      parts: split(mulberry32(SEED + 1), zlib.gzipSync(plain, { level: 1 })),
    });
    const got = await pages.ours(path);
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.bytes.equals(plain)).toBe(true);
    expect(Math.max(...got.sizes)).toBeLessThanOrEqual(16 * 1024);
  });

  it.each([
    // zlib knows at the first bytes; the connection stays open
    ['its gzip magic', 'open', (gz: Buffer) => (gz[1] ^= 0xff)],
    // a stored block's byte: only the CRC at the end tells; Node's fetch then waited for more until the
    // request timeout, and the page was asked again after it (SALESFORCE_TIMEOUT on main, 8 s here)
    ['a byte of its data', 'closed', (gz: Buffer) => (gz[Math.floor(gz.length / 2)] ^= 0x55)],
  ])(
    'fails a gzip body damaged at %s at once (connection %s), a retriable network error',
    async (_at, connection, damage) => {
      const body = Buffer.from(zlib.gzipSync(csvText(mulberry32(SEED + 2), 200_000), { level: 0 }));
      damage(body);
      const hold = connection === 'open';
      const path = pages.serve({
        headers: { 'Content-Encoding': 'gzip' },
        parts: [hold ? body.subarray(0, body.length - 8) : body],
        hold,
      });
      const started = Date.now();
      const got = await pages.ours(path, { timeoutMs: 8_000 });
      expect(got.ok).toBe(false);
      if (got.ok) return;
      expect(got.error).toBeInstanceOf(TransportError);
      expect((got.error as TransportError).code).toBe('SALESFORCE_NETWORK');
      expect((got.error as TransportError).retriable).toBe(true);
      expect(Date.now() - started).toBeLessThan(4_000);
    },
  );

  it('does not inflate a plain body whatever headers the server sends', async () => {
    const gz = zlib.gzipSync(Buffer.from('"Id"\n"005"\n'));
    const path = pages.serve({ headers: { 'x-sf-connector-raw-encoding': 'gzip' }, parts: [gz] });
    const got = await pages.ours(path);
    expect(got.ok).toBe(true);
    if (got.ok) expect(got.bytes.equals(gz)).toBe(true);
  });
});
