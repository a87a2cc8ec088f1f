/**
 * Salesforce's gzip'd bodies inflated by us, not by fetch: 256 KiB at a time instead of 16 KiB, and a
 * damaged body fails at once.
 *
 * Why:
 *   - fetch (undici) inflates with zlib's default 16 KiB output chunk, each a trip through libuv's pool,
 *     a callback and a web-stream read on the connector's one thread; a Bulk result page is ~1-2 MB of
 *     CSV. The whole users read in one process, rounds alternating (bench/page-inflate.ts, 40k users,
 *     12 rounds, session 18): -1.7 µs of CPU a user on average (8 of 12 rounds), ~4 % of the read.
 *   - A body damaged where only gzip's CRC tells (a stored block's byte) left fetch's decoder waiting,
 *     silently, until requestTimeoutMs: the page then failed SALESFORCE_TIMEOUT and was asked again after
 *     that wait. Here zlib's error is a retriable SALESFORCE_NETWORK at once (raw-gzip-s18.test.ts).
 * fetch has no option for its decoder, so:
 *
 *   - keepGzip, an undici interceptor (Dispatcher#compose), renames a response's lone
 *     `Content-Encoding: gzip` (or x-gzip, any case) to RAW_ENCODING_HEADER, so fetch hands the body
 *     over as it came; a header of that name sent by the server itself is dropped (a server must not
 *     make us inflate a plain body); several codings, or another one, are left to fetch as before.
 *   - Inflater is what fetch's decoder did, with fetch's own options (Z_SYNC_FLUSH on every write and
 *     at the end: a body cut short gives what it held, as fetch gave it; the page's integrity checks
 *     count its rows) and a 256 KiB output chunk, handed over in 16 KiB views (HANDOVER).
 *
 * proxiedFetch (proxy.ts) puts keepGzip on every request of the extractor, direct or proxied; http.ts
 * inflates the bodies so marked. Equivalence with fetch: test/unit/connectors/salesforce/raw-gzip-s18.test.ts.
 */
import * as zlib from 'node:zlib';
import { DecoratorHandler, type Dispatcher } from 'undici';

/** Where keepGzip puts a gzip coding that fetch must not see (lower case: how undici matches names). */
export const RAW_ENCODING_HEADER = 'x-sf-connector-raw-encoding';

/** zlib's output chunk for a page: 16x fetch's, so 1/16 of the trips through libuv's pool. */
export const INFLATE_CHUNK = 256 * 1024;

/**
 * The pieces handed to the caller: fetch's 16 KiB. The CSV parser decodes each piece into a string and
 * a row's longer fields are slices of it (V8 keeps the whole string alive while a slice lives), so the
 * rows in flight hold a piece each: with 256 KiB pieces the connector's peak RSS rose 9-13 MB at 100k
 * users (bench/connector.ts, 2 pairs, session 18), with 16 KiB ones it did not (below, docs/performance.md).
 */
export const HANDOVER = 16 * 1024;

type RawHeaders = (Buffer | string)[];

const nameOf = (h: Buffer | string) => (typeof h === 'string' ? h : h.toString('latin1')).toLowerCase();

/** The raw headers with a lone gzip coding moved under RAW_ENCODING_HEADER, and any of that name dropped. */
export function keepGzipHeaders(raw: RawHeaders): RawHeaders {
  const out: RawHeaders = [];
  let codings = 0;
  let gzipAt = -1;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = nameOf(raw[i]!);
    if (name === RAW_ENCODING_HEADER) continue;
    if (name === 'content-encoding') {
      codings++;
      const value = nameOf(raw[i + 1]!).trim();
      if (value === 'gzip' || value === 'x-gzip') gzipAt = out.length;
    }
    out.push(raw[i]!, raw[i + 1]!);
  }
  if (codings === 1 && gzipAt >= 0) {
    out[gzipAt] = Buffer.from(RAW_ENCODING_HEADER);
    out[gzipAt + 1] = Buffer.from('gzip');
  }
  return out;
}

/** undici's handler that passes every event on (its typings omit the methods it has). */
interface Decorated {
  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean;
}
const Decorator = DecoratorHandler as unknown as new (handler: Dispatcher.DispatchHandlers) => Decorated;

class KeepGzipHandler extends Decorator {
  override onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    return super.onHeaders(statusCode, keepGzipHeaders(headers) as Buffer[], resume, statusText);
  }
}

/** The interceptor: every response of the dispatcher it is composed onto comes with its gzip kept. */
export const keepGzip: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) =>
  dispatch(options, new KeepGzipHandler(handler));

/**
 * A body's inflate, one source piece at a time: push() yields what that piece inflates to, one zlib chunk
 * at a time, and zlib waits while the consumer has not taken the last (paused: at most a chunk or two held,
 * however much one socket read inflates to; gzip reaches ~1000:1, 64 KiB -> 64 MB). zlib's errors (a
 * damaged body) are thrown.
 */
export class Inflater {
  private readonly gunzip = zlib.createGunzip({
    chunkSize: INFLATE_CHUNK,
    flush: zlib.constants.Z_SYNC_FLUSH,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  private readonly out: Buffer[] = [];
  private failed: Error | undefined;
  private wake: (() => void) | undefined;
  /** zlib ended its output (push(null)): the gzip member is complete, bytes after it are ignored (as fetch). */
  private memberEnded = false;
  /** ... and that end was delivered ('end'): nothing more will come. */
  private ended = false;

  constructor() {
    const push = this.gunzip.push.bind(this.gunzip);
    this.gunzip.push = (chunk: unknown, encoding?: BufferEncoding) => {
      if (chunk === null) this.memberEnded = true;
      return push(chunk, encoding);
    };
    this.gunzip.on('data', (piece: Buffer) => {
      this.out.push(piece);
      this.gunzip.pause(); // until the consumer took it
      this.signal();
    });
    this.gunzip.on('end', () => {
      this.ended = true;
      this.signal();
    });
    this.gunzip.on('error', (err: Error) => {
      this.failed ??= err;
      this.signal();
    });
  }

  /** The output of one piece of the body (output zlib delivers late comes with the next one: order kept). */
  async *push(piece: Uint8Array): AsyncGenerator<Buffer, void, undefined> {
    if (this.memberEnded) return yield* this.drain(() => this.ended);
    let written = false;
    this.gunzip.write(piece, (err) => {
      written = true;
      if (err) this.failed ??= err;
      this.signal();
    });
    yield* this.drain(() => written && this.gunzip.readableLength === 0);
  }

  /** The rest of the output, once the body ended. */
  async *end(): AsyncGenerator<Buffer, void, undefined> {
    if (!this.gunzip.writableEnded) this.gunzip.end();
    yield* this.drain(() => this.ended);
  }

  private async *drain(done: () => boolean): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const chunk = this.out.shift();
      if (chunk) {
        // views of HANDOVER bytes: the strings the CSV parser decodes stay fetch's size
        for (let at = 0; at < chunk.length; at += HANDOVER) yield chunk.subarray(at, at + HANDOVER);
        continue;
      }
      if (this.failed) throw this.failed;
      if (done()) return;
      const woken = new Promise<void>((resolve) => (this.wake = resolve));
      this.gunzip.resume();
      await woken;
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Frees zlib's state (a body left early, or failed). */
  close(): void {
    this.gunzip.destroy();
  }
}
