/**
 * csv.ts's dialect written straight into Buffers, for the result pages: the same bytes as
 * csvValue/csvLine followed by a UTF-8 encoding (test/contract/sim-pages-s14.test.ts, today's
 * string writer as the oracle), without building each page chunk as a JS string and encoding it
 * again: each value is encoded by one Buffer.write into the chunk (which encodes a lone surrogate
 * as U+FFFD, as Buffer.from(string) does). Measured (docs/performance-s14-sim.md, 30k users' pages
 * in one process): a JS loop copying ASCII characters one by one was slower than Buffer.write.
 */
import { Value } from './table';

const QUOTE = 34;

export class CsvBytes {
  private buf: Buffer;
  /** Bytes written into the current buffer. */
  length = 0;

  constructor(private readonly size: number) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  /** The bytes written so far, handed over (the next go into a new buffer: the caller's write may hold this one). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.length);
    this.buf = Buffer.allocUnsafeSlow(this.size);
    this.length = 0;
    return out;
  }

  /** An ASCII separator (delimiter or line ending), as it is. */
  ascii(s: string): void {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.length++] = s.charCodeAt(i);
  }

  /** csvValue(v), UTF-8 encoded. */
  value(v: Value): void {
    if (v === null || v === '') return;
    if (v === true || v === false) {
      this.ascii(v ? '"true"' : '"false"');
      return;
    }
    const s = typeof v === 'string' ? v : String(v);
    const n = s.length;
    // at most 3 bytes a UTF-16 unit (a doubled quote is 2), and the two quotes
    this.room(3 * n + 2);
    const b = this.buf;
    let p = this.length;
    b[p++] = QUOTE;
    p += b.write(s.includes('"') ? s.replace(/"/g, '""') : s, p, 'utf8');
    b[p++] = QUOTE;
    this.length = p;
  }

  /** Makes room for n more bytes (a value larger than the buffer grows it). */
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.size, 2 * (this.length + n)));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
}
