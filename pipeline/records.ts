import { createHash, hash } from 'node:crypto';
import type { RecordError } from '../kernel/errors';
import type { OutRecord } from './kafka/publisher';
import { scrubSecrets } from '../kernel/redact';
import { DEAD_LETTER_HEADERS, HEADERS } from '../schemas/topics';

/**
 * Pure builders of the records a run publishes: users, login events, tombstones and dead
 * letters, each with the run's headers (run id, connector name, source org).
 */
export interface RunIdentity {
  runId: string;
  connectorName: string;
  orgId: string;
}

export function runHeaders(run: RunIdentity): Record<string, string> {
  return { [HEADERS.runId]: run.runId, [HEADERS.connector]: run.connectorName, [HEADERS.org]: run.orgId };
}

/**
 * A user's content hash, over the raw Bulk row (column names and values, in column order) and a
 * `seed` that fingerprints the mapping and schema. Equal hashes mean the record built from the
 * row is equal too, except for what changes every run (run id, extraction time) and the device
 * of the latest login, which the run tracks apart. A changed mapping changes the seed, so every
 * user is published again with the new mapping. One hash a row: this is on the hot path.
 *
 * The digest is sha256 of the UTF-8 of `seed` + `\u0001<column>\u0000<value>` per column, base64url,
 * 22 characters (132 bits): the bytes are written straight into one reused buffer instead of a string
 * concatenated from ~3 pieces a column (a rope of ~540 strings flattened, then encoded: ~25 KB of
 * garbage a user row, GC being the first full run's largest cost). Same digest as the concatenation
 * (content-hash.test.ts, HASH_SEED, keeps it as the oracle): a stored hash stays valid.
 */
export function contentHash(row: Readonly<Record<string, string>>, seed: string): string {
  // Re-entered while the buffer holds an outer row's bytes (a value's toString or a getter that hashes
  // another row; none from a CSV page): the inner hash takes the string form and leaves the buffer alone.
  if (text.busy) return contentHashOfString(row, seed);
  text.busy = true;
  try {
    let at = text.writeString(seed, 0);
    let i = 0;
    for (const k in row) {
      at = text.writeBytes(text.columnPrefix(i++, k), at);
      const v: unknown = row[k];
      // a value that is not a string (none from a CSV page) is hashed as the template literal wrote it
      at = text.writeString(typeof v === 'string' ? v : `${v as string}`, at);
    }
    return hash('sha256', text.view(at), 'base64url').slice(0, 22);
  } finally {
    text.busy = false;
  }
}

/** The same digest from a concatenated string: no shared state, ~1.5x the CPU and ~25 KB of garbage a row. */
function contentHashOfString(row: Readonly<Record<string, string>>, seed: string): string {
  let s = seed;
  for (const k in row) s += `\u0001${k}\u0000${row[k]}`;
  return hash('sha256', s, 'base64url').slice(0, 22);
}

/**
 * The hash's text buffer (one per process: the hash is synchronous) and each column's
 * `\u0001<column>\u0000` bytes, kept by position for the last key list seen: consecutive rows
 * share their columns, so a column's prefix is found by comparing one string (internalized keys:
 * a pointer) instead of a map lookup or an encode.
 */
class HashText {
  /** A hash is writing into the buffer (contentHash, rowDigest). */
  busy = false;
  private buf: Buffer;
  private readonly keys: string[] = [];
  private readonly prefixes: Buffer[] = [];

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }
  columnPrefix(i: number, key: string): Buffer {
    if (this.keys[i] !== key) {
      this.keys[i] = key;
      this.prefixes[i] = Buffer.from(`\u0001${key}\u0000`, 'utf8');
    }
    return this.prefixes[i] as Buffer;
  }

  writeString(v: string, at: number): number {
    // UTF-8 is at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units)
    if (at + v.length * 3 > this.buf.length) this.grow(at, v.length * 3);
    return at + this.buf.write(v, at, 'utf8');
  }

  writeBytes(b: Buffer, at: number): number {
    if (at + b.length > this.buf.length) this.grow(at, b.length);
    b.copy(this.buf, at);
    return at + b.length;
  }

  /**
   * `v`'s UTF-8 after its byte count (rowDigest's prefix-free form): one byte when under 255 (a
   * value under 85 UTF-16 units), else 255 and the count in 4 bytes little-endian.
   */
  writeSized(v: string, at: number): number {
    if (at + 5 + v.length * 3 > this.buf.length) this.grow(at, 5 + v.length * 3);
    const buf = this.buf;
    if (v.length === 0) {
      buf[at] = 0;
      return at + 1;
    }
    if (v.length < 85) {
      // at most 254 bytes: their count in one byte before them
      const n = buf.write(v, at + 1, 'utf8');
      buf[at] = n;
      return at + 1 + n;
    }
    const n = buf.write(v, at + 5, 'utf8');
    buf[at] = 255;
    buf.writeUInt32LE(n, at + 1);
    return at + 5 + n;
  }

  view(end: number): Buffer {
    return this.buf.subarray(0, end);
  }

  private grow(used: number, more: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, used + more));
    this.buf.copy(next, 0, 0, used);
    this.buf = next;
  }
}

const text = new HashText();

/**
 * The row digest (version 2 of the content hash, users since session 12): the same promise as
 * contentHash (equal digests mean equal rows under the same seed) at about half its CPU. contentHash
 * writes the ~5 KB of column names of a user row into its input every row (~350 writes, 6.5 KB
 * hashed); this one hashes them once per column list: the input is sha256 of the JSON of [seed,
 * [columns]], 32 bytes, then each value as its length and its UTF-8 bytes (~175 writes, ~1.5 KB).
 * 16.1 -> 10.3 µs a simulator user row in one process (docs/performance-s12-cpu.md).
 *
 * Why equal digests still mean equal rows: the column digest fixes the seed and the column list (in
 * order; JSON, not contentHash's `\u0001<column>\u0000`, so a column name holding those characters
 * cannot spell two lists), and the values' encoding is prefix-free (a length byte under 255, or 255
 * and the length in 4 bytes; the length is the UTF-8 byte count), so one input is one list of values
 * (their count included). A lone surrogate in a value is written as U+FFFD, as contentHash writes it;
 * a CSV page's text (decoded UTF-8) holds none.
 *
 * The digest is `ROW_DIGEST_MARK` + 20 base64url characters of the sha256 (120 bits): 22 characters
 * like contentHash's, so the live index packs it in the same 17 bytes, and the mark tells it from a
 * stored contentHash digest (see userDigest).
 */
export function rowDigest(row: Readonly<Record<string, string>>, seed: string): string {
  // Re-entered (a value's toString digesting another row; none from a CSV page): a buffer of its own.
  const w = digestText.busy ? new HashText(1024) : digestText;
  w.busy = true;
  try {
    let at = w.writeBytes(columnsDigest(row, seed), 0);
    for (const k in row) {
      const v: unknown = row[k];
      // a value that is not a string (none from a CSV page) is digested as the template literal writes it
      at = w.writeSized(typeof v === 'string' ? v : `${v as string}`, at);
    }
    return ROW_DIGEST_MARK + hash('sha256', w.view(at), 'base64url').slice(0, 20);
  } finally {
    w.busy = false;
  }
}

/** rowDigest's input buffer: one per process (the digest is synchronous), grown to fit. */
const digestText = new HashText(16 * 1024);

/**
 * Marks a rowDigest. Two characters: a contentHash digest starts with them once in 4,096 users,
 * who are published once more after the upgrade (userDigest), never skipped wrongly.
 */
export const ROW_DIGEST_MARK = '_2';

/**
 * A user row's digest for its record's header, and whether the row is unchanged since `previous`
 * (the digest its last record carries). The header has carried a contentHash digest (before session
 * 12) or a rowDigest (marked): a previous digest of the old kind is compared with the row's
 * contentHash, so an upgrade publishes no unchanged user again, and such a user keeps its old digest
 * (and costs what it cost before) until its row changes; a changed row goes out with a rowDigest.
 * Exact both ways: `unchanged` only when the digest of the previous's own kind is equal, and for
 * the old kind only when no value holds U+0001: contentHash's input is `\u0001<column>\u0000<value>`
 * per column, so a value holding `\u0001<next column>\u0000` could move characters into the next
 * value with the same input (a review found it, row-digest-review-s12.test.ts); without U+0001 in
 * the values (column names hold neither separator) the input splits back one way only. Such a row
 * goes out once with a rowDigest.
 */
export function userDigest(
  row: Readonly<Record<string, string>>,
  seed: string,
  previous: string | undefined,
): { hash: string; unchanged: boolean } {
  if (previous !== undefined && !previous.startsWith(ROW_DIGEST_MARK)) {
    const old = contentHash(row, seed);
    if (old === previous && !holdsSeparator(row)) return { hash: old, unchanged: true };
  }
  const hash = rowDigest(row, seed);
  return { hash, unchanged: hash === previous };
}

/** Whether a value of the row holds contentHash's column separator (U+0001). */
function holdsSeparator(row: Readonly<Record<string, string>>): boolean {
  for (const k in row) {
    const v = row[k];
    if (typeof v === 'string' && v.includes('\u0001')) return true;
  }
  return false;
}

/**
 * The column lists' digests last used, newest first: consecutive rows share their columns and seed.
 * A few, not one: in a run that cannot read UserLogin, the rows of users whose flags are carried
 * (withCarriedFlags) have two columns more than the others, and the two lists alternate.
 */
const columnDigests: { seed: string; columns: string[]; digest: Buffer }[] = [];

function columnsDigest(row: Readonly<Record<string, string>>, seed: string): Buffer {
  for (let i = 0; i < columnDigests.length; i++) {
    const c = columnDigests[i];
    if (c.seed === seed && sameColumns(row, c.columns)) {
      if (i > 0) columnDigests.unshift(...columnDigests.splice(i, 1));
      return c.digest;
    }
  }
  const columns: string[] = [];
  for (const k in row) columns.push(k);
  // JSON escapes lone surrogates (well-formed stringify): its UTF-8 is one text for one list
  const digest = createHash('sha256')
    .update(JSON.stringify([seed, columns]))
    .digest();
  columnDigests.unshift({ seed, columns, digest });
  if (columnDigests.length > 4) columnDigests.pop();
  return digest;
}

/** The row's keys (for-in, as the values are read) are `columns`. */
function sameColumns(row: Readonly<Record<string, string>>, columns: readonly string[]): boolean {
  let n = 0;
  for (const k in row) if (columns[n++] !== k) return false;
  return n === columns.length;
}

/** Fingerprint of what turns rows into records (mapping files and schemas). */
export function mappingFingerprint(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

export function tombstone(topic: string, key: Buffer, run: RunIdentity): OutRecord {
  return { topic, key, value: null, headers: runHeaders(run) };
}

/**
 * A row that cannot be mapped or encoded: it goes to the dead-letter topic with the reason, the
 * field and the raw row (as JSON), so nothing is lost and the run goes on.
 */
export function deadLetter(
  topic: string,
  object: string,
  row: Record<string, string>,
  error: RecordError,
  run: RunIdentity,
  at: Date,
): OutRecord {
  return {
    topic,
    key: Buffer.from(row.Id ?? ''),
    value: Buffer.from(
      JSON.stringify({ object, reason: scrubSecrets(error.message), field: error.field ?? null, row }),
    ),
    headers: {
      ...runHeaders(run),
      [DEAD_LETTER_HEADERS.reason]: scrubSecrets(error.message),
      [DEAD_LETTER_HEADERS.errorCode]: error.code,
      [DEAD_LETTER_HEADERS.field]: error.field ?? '',
      [DEAD_LETTER_HEADERS.sourceObject]: object,
      [DEAD_LETTER_HEADERS.failedAt]: at.toISOString(),
    },
  };
}
