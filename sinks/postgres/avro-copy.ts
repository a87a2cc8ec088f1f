import { isUtf8 } from 'node:buffer';
import { WIRE_HEADER_BYTES } from '../../schemas/wire';
import type { WriterSchema } from '../port';
import { isoInto, type FieldColumn } from './columns';
import { copyValue } from './copy';
import type { CopyTarget } from './statements';
import type { SinkTable } from './table';

/**
 * COPY text straight from a record's Avro bytes: a reader compiled once per (table columns,
 * writer schema, target) walks the framed value and appends the row's line to a byte buffer. No
 * record object, no per-field strings for text columns (Avro strings are UTF-8, COPY text is
 * UTF-8: the bytes are copied with COPY's four escapes), no join, no Buffer.from per chunk. The
 * row encoder of statements.ts (from decoded values) was ~26 % of an initial load's CPU and its
 * strings a large part of the GC's 15 % (docs/performance-s6-sink.md).
 *
 * avsc has no reader that writes text; this one cut an initial load's CPU, with avro-check.ts,
 * 27.5 -> 19.0 and 21.1 -> 14.4 us a row, side by side (docs/performance-s7-sink.md).
 *
 * Exactly the bytes of statements.ts lineEncoder (test/unit/sinks/avro-copy.test.ts): a row this
 * reader cannot vouch for (a string that is not valid UTF-8, which avsc decodes with replacement
 * characters; a long beyond 2^53; anything unexpected) answers FALLBACK and the caller encodes it
 * from the decoded value. A writer schema with a type this reader does not know (bytes, arrays,
 * multi-type unions, dates, plain longs, ints, floats) gets no reader at all: same fallback.
 */
/** Only code points below 128: what CopyBytes#ascii writes as it is. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

export const OK = 0;
/** The row cannot go `direct` (a value only PostgreSQL can convert): the batch takes the staging path. */
export const NO_DIRECT = 1;
/** This reader cannot vouch for the row: encode it from its decoded value. */
export const FALLBACK = 2;
export type Outcome = typeof OK | typeof NO_DIRECT | typeof FALLBACK;

/** A growable output buffer; `n` bytes used. */
export class CopyBytes {
  buf: Buffer;
  n = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, size));
  }
  ensure(more: number): void {
    if (this.n + more <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + more));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }
  /** A string of code points below 128 (numbers, ISO instants, \N). */
  ascii(s: string): void {
    const len = s.length;
    this.ensure(len);
    const buf = this.buf;
    let n = this.n;
    for (let i = 0; i < len; i++) buf[n++] = s.charCodeAt(i);
    this.n = n;
  }
  /** Any string, as UTF-8. */
  text(s: string): void {
    this.ensure(s.length * 3);
    this.n += this.buf.write(s, this.n, 'utf8');
  }
}

/** Encodes one row (body = the framed value) into `out`; the caller rewinds `out.n` unless OK. */
export type RowReader = (value: Buffer, key: string, partition: number, offset: string, out: CopyBytes) => Outcome;

// The read position: one reader runs at a time (synchronous), no Tap object per row.
const EMPTY = Buffer.alloc(0);
let src: Buffer = EMPTY;
let pos = 0;

/** avsc's Tap#readLong: zigzag varint, float arithmetic beyond 28 bits. */
function readLong(): number {
  let n = 0;
  let k = 0;
  let b: number;
  let h: number;
  do {
    b = src[pos++];
    h = b & 0x80;
    n |= (b & 0x7f) << k;
    k += 7;
  } while (h && k < 28);
  if (!h) return (n >> 1) ^ -(n & 1);
  let f = n;
  let fk = 268435456;
  do {
    b = src[pos++];
    f += (b & 0x7f) * fk;
    fk *= 128;
  } while (b & 0x80);
  return (f % 2 ? -(f + 1) : f) / 2;
}

/** A tab, then an Avro string's bytes as COPY text: \ TAB LF CR escaped; FALLBACK when not valid UTF-8. */
function copyString(out: CopyBytes): Outcome {
  const len = readLong();
  const end = pos + len;
  if (!(len >= 0 && end <= src.length)) return FALLBACK;
  out.ensure(2 * len + 1);
  const buf = out.buf;
  let n = out.n;
  buf[n++] = 9; // the column's tab
  let high = 0;
  for (let i = pos; i < end; i++) {
    const b = src[i];
    high |= b;
    // Most bytes are letters, digits or punctuation above CR: one or two comparisons, not four.
    if (b > 92 || (b > 13 && b !== 92)) buf[n++] = b;
    else if (b === 92) {
      buf[n++] = 92;
      buf[n++] = 92;
    } else if (b === 9) {
      buf[n++] = 92;
      buf[n++] = 116;
    } else if (b === 10) {
      buf[n++] = 92;
      buf[n++] = 110;
    } else if (b === 13) {
      buf[n++] = 92;
      buf[n++] = 114;
    } else buf[n++] = b;
  }
  if (high & 0x80 && !isUtf8(src.subarray(pos, end))) return FALLBACK;
  pos = end;
  out.n = n;
  return OK;
}

/** The key as COPY text: copied as it is when ASCII with nothing to escape (an Id), else copyValue's. */
function keyText(out: CopyBytes, key: string): void {
  const len = key.length;
  out.ensure(len);
  const buf = out.buf;
  let n = out.n;
  for (let i = 0; i < len; i++) {
    const c = key.charCodeAt(i);
    if (c >= 128 || c === 92 || c === 9 || c === 10 || c === 13) return out.text(copyValue('text', key));
    buf[n++] = c;
  }
  out.n = n;
}

type Step = (out: CopyBytes) => Outcome;
type Json = Record<string, unknown>;

/** The reader of one writer schema for a table's columns and target, or undefined (use the decoded values). */
export function rowReader(table: SinkTable, writer: WriterSchema, target: CopyTarget): RowReader | undefined {
  const fields = table.fields();
  let cache = readers.get(table);
  if (!cache || cache.columns !== fields.length) {
    cache = { columns: fields.length, stage: new WeakMap(), direct: new WeakMap() };
    readers.set(table, cache);
  }
  const mine = cache[target];
  if (!mine.has(writer)) mine.set(writer, compile(fields, table.writerColumns(writer), writer, target));
  return mine.get(writer);
}

const readers = new WeakMap<
  SinkTable,
  {
    columns: number;
    stage: WeakMap<WriterSchema, RowReader | undefined>;
    direct: WeakMap<WriterSchema, RowReader | undefined>;
  }
>();

function compile(
  fields: readonly FieldColumn[],
  own: ReadonlyMap<string, FieldColumn>,
  writer: WriterSchema,
  target: CopyTarget,
): RowReader | undefined {
  if (fields[0]?.field !== 'id') return undefined;
  const index = new Map(fields.map((f, i) => [f.field, i]));
  const writerFields = (writer.json as Json).fields as Json[];
  // Per table column after the id: the step that reads its writer field, or its constant text.
  const byColumn: (Step | string)[] = [];
  // Writer fields in their order; each either fills the next columns in order or is skipped (id).
  const reads: { column: number; step: Step }[] = [];
  let last = 0;
  for (const wf of writerFields) {
    const name = wf.name as string;
    const column = index.get(name);
    const theirs = column === undefined ? undefined : fields[column];
    const ours = own.get(name);
    if (column === undefined || !theirs || !ours) return undefined;
    if (theirs.pgType !== ours.pgType || theirs.wireType !== ours.wireType) return undefined;
    const step = fieldStep(wf.type, theirs, target, name === 'id');
    if (!step) return undefined;
    if (name === 'id') {
      reads.push({ column: 0, step });
      continue;
    }
    // The line is written in column order as the bytes are read: the writer's order must be the table's.
    if (column <= last) return undefined;
    last = column;
    reads.push({ column, step });
  }
  for (let c = 1; c < fields.length; c++) {
    if (reads.some((r) => r.column === c)) continue;
    const f = fields[c];
    const constant =
      target === 'direct' && f.direct
        ? f.defaultJson === null || f.defaultJson === undefined
          ? '\\N'
          : typeof f.defaultJson === 'number'
            ? f.direct(f.defaultJson)
            : undefined
        : copyValue(f.wireType, f.defaultJson);
    if (constant === undefined) return undefined;
    byColumn[c] = constant;
  }
  // The plan: per writer field in order, the constants of the columns before it, then its step.
  const plan: (Step | string)[] = [];
  let next = 1;
  for (const r of reads) {
    if (r.column === 0) {
      plan.push(r.step); // reads past the id field; the key is written instead
      continue;
    }
    for (; next < r.column; next++) plan.push(`\t${byColumn[next] as string}`);
    plan.push(r.step); // writes its column's tab itself
    next = r.column + 1;
  }
  for (; next < fields.length; next++) plan.push(`\t${byColumn[next] as string}`);
  // Adjacent constants as one string: one call where there were several.
  const steps: (Step | string)[] = [];
  for (const p of plan)
    if (typeof p === 'string' && typeof steps[steps.length - 1] === 'string') steps[steps.length - 1] += p;
    else steps.push(p);
  // A constant beyond ASCII (a default such as 'café') is written as UTF-8 by a step of its own:
  // out.ascii writes one byte a UTF-16 unit (sink-default-review.test.ts).
  for (let i = 0; i < steps.length; i++) {
    const c = steps[i];
    if (typeof c === 'string' && !isAscii(c)) {
      steps[i] = (out: CopyBytes) => {
        out.text(c);
        return OK;
      };
    }
  }
  const joined = runs(steps);
  const n = joined.length;
  return (value, key, partition, offset, out) => {
    src = value;
    pos = WIRE_HEADER_BYTES;
    try {
      keyText(out, key);
      for (let i = 0; i < n; i++) {
        const s = joined[i];
        if (typeof s === 'string') out.ascii(s);
        else {
          const r = s(out);
          if (r !== OK) return r;
        }
      }
      if (pos !== value.length) return FALLBACK;
    } finally {
      src = EMPTY; // the value is a view of a whole fetch: not held past its row
    }
    out.ascii('\t');
    out.ascii(String(partition));
    out.ascii('\t');
    out.ascii(offset);
    out.ascii('\n');
    return OK;
  };
}

/** The steps of ["null", boolean] and ["null", string] columns (null's place after @), with their general way. */
const nullables = new WeakMap<Step, { kind: string; general: Step }>();

/**
 * Each run of adjacent steps of one nullable kind as one step, a loop instead of one call a
 * column: a user's last 103 columns are ["null", boolean] (session 14's profile: the nullable
 * steps were ~5 % of the sink's busy time, much of it the calls). Each column of a run is written
 * as its own step writes it: the same bytes, and a form other than the one-byte index goes that
 * column's own general way (the same outcome).
 */
function runs(steps: readonly (Step | string)[]): (Step | string)[] {
  const out: (Step | string)[] = [];
  for (let i = 0; i < steps.length;) {
    const first = steps[i];
    const kind = typeof first === 'string' ? undefined : nullables.get(first)?.kind;
    let j = i + 1;
    if (kind !== undefined)
      for (; j < steps.length; j++) {
        const s = steps[j];
        if (typeof s === 'string' || nullables.get(s)?.kind !== kind) break;
      }
    if (j - i < 2) {
      out.push(first);
      i++;
      continue;
    }
    const generals = steps.slice(i, j).map((s) => nullables.get(s as Step)!.general);
    const count = j - i;
    const nullByte = kind!.endsWith('@0') ? 0 : 2;
    const valueByte = 2 - nullByte;
    out.push(
      kind!.startsWith('boolean')
        ? booleanRun(count, nullByte, valueByte, generals)
        : stringRun(count, nullByte, valueByte, generals),
    );
    i = j;
  }
  return out;
}

function booleanRun(count: number, nullByte: number, valueByte: number, generals: readonly Step[]): Step {
  return (out) => {
    out.ensure(3 * count);
    let buf = out.buf;
    let n = out.n;
    for (let k = 0; k < count; k++) {
      const b = src[pos];
      if (b === nullByte) {
        buf[n++] = 9;
        buf[n++] = 92;
        buf[n++] = 78;
        pos++;
      } else if (b === valueByte) {
        buf[n++] = 9;
        buf[n++] = src[pos + 1] ? 116 : 102;
        pos += 2;
      } else {
        out.n = n;
        const r = generals[k](out);
        if (r !== OK) return r;
        out.ensure(3 * (count - k - 1));
        buf = out.buf;
        n = out.n;
      }
    }
    out.n = n;
    return OK;
  };
}

function stringRun(count: number, nullByte: number, valueByte: number, generals: readonly Step[]): Step {
  return (out) => {
    for (let k = 0; k < count; k++) {
      const b = src[pos];
      if (b === valueByte) {
        pos++;
        const r = copyString(out);
        if (r !== OK) return r;
      } else if (b === nullByte) {
        pos++;
        out.ensure(3);
        const buf = out.buf;
        buf[out.n++] = 9;
        buf[out.n++] = 92;
        buf[out.n++] = 78;
      } else {
        const r = generals[k](out);
        if (r !== OK) return r;
      }
    }
    return OK;
  };
}

/**
 * A field's reader, or undefined for a type this reader does not handle. `skip`: read, write
 * nothing (the id, written from the key). Otherwise the step writes its column's leading tab too
 * (one call a column, not two).
 */
function fieldStep(type: unknown, column: FieldColumn, target: CopyTarget, skip: boolean): Step | undefined {
  if (Array.isArray(type)) {
    if (type.length !== 2) return undefined;
    const nullAt = type.findIndex((t) => t === 'null');
    if (nullAt < 0) return undefined;
    const inner = fieldStep(type[1 - nullAt], column, target, skip);
    if (!inner) return undefined;
    // A branch index 0 or 1 is one byte, 0 or 2 (zigzag), in every record avsc writes: read in
    // place here; any other bytes (a longer varint of the same index, a wrong index) go readLong's way.
    const nullByte = 2 * nullAt;
    const valueByte = 2 * (1 - nullAt);
    const general = (out: CopyBytes): Outcome => {
      const branch = readLong();
      if (branch === nullAt) {
        if (!skip) out.ascii('\t\\N');
        return OK;
      }
      return branch === 1 - nullAt ? inner(out) : FALLBACK;
    };
    const t = (typeof type[1 - nullAt] === 'string' ? { type: type[1 - nullAt] } : type[1 - nullAt]) as Json;
    if (t.type === 'boolean' && !skip) {
      // ~110 of a user's ~190 columns: the branch, the value and the tab in one step
      const step: Step = (out) => {
        const b = src[pos];
        if (b !== nullByte && b !== valueByte) return general(out);
        out.ensure(3);
        const buf = out.buf;
        let n = out.n;
        buf[n++] = 9;
        if (b === nullByte) {
          buf[n++] = 92;
          buf[n++] = 78;
          pos++;
        } else {
          buf[n++] = src[pos + 1] ? 116 : 102;
          pos += 2;
        }
        out.n = n;
        return OK;
      };
      nullables.set(step, { kind: `boolean@${nullAt}`, general });
      return step;
    }
    const step: Step = (out) => {
      const b = src[pos];
      if (b === valueByte) {
        pos++;
        return inner(out);
      }
      if (b !== nullByte) return general(out);
      pos++;
      if (!skip) {
        out.ensure(3);
        const buf = out.buf;
        buf[out.n++] = 9;
        buf[out.n++] = 92;
        buf[out.n++] = 78;
      }
      return OK;
    };
    if (inner === copyString && !skip) nullables.set(step, { kind: `string@${nullAt}`, general });
    return step;
  }
  const t = (typeof type === 'string' ? { type } : type) as Json;
  const logical = t.logicalType as string | undefined;
  switch (t.type) {
    case 'string':
      if (logical !== undefined) return undefined;
      if (skip)
        return () => {
          const len = readLong();
          pos += len;
          return pos <= src.length ? OK : FALLBACK;
        };
      return column.pgType === 'text' ? copyString : undefined;
    case 'boolean':
      if (column.pgType !== 'boolean' || skip) return undefined;
      return (out) => {
        out.ascii(src[pos++] ? '\tt' : '\tf');
        return OK;
      };
    case 'enum': {
      if (column.pgType !== 'text' || skip) return undefined;
      const symbols = (t.symbols as string[]).map((s) => `\t${copyValue('text', s)}`);
      return (out) => {
        const symbol = symbols[readLong()];
        if (symbol === undefined) return FALLBACK;
        out.text(symbol);
        return OK;
      };
    }
    case 'double':
      if (column.pgType !== 'double precision' || skip) return undefined;
      return (out) => {
        const v = src.readDoubleLE(pos);
        pos += 8;
        out.ascii('\t');
        out.ascii(String(v));
        return OK;
      };
    case 'long': {
      if (logical !== 'timestamp-millis' || column.pgType !== 'timestamptz' || skip) return undefined;
      const direct = target === 'direct' ? column.direct : undefined;
      if (direct && column.directMillis) {
        // The ISO text written in place (columns.ts isoInto: iso's bytes, no string); the column's
        // last one kept, as its `direct` keeps it (a column's instants repeat from row to row).
        let last = Number.NaN;
        let end = -1;
        const text = Buffer.alloc(25);
        text[0] = 9;
        return (out) => {
          const v = readLong();
          if (!Number.isSafeInteger(v)) return FALLBACK;
          if (v !== last) {
            last = v;
            end = isoInto(v, text, 1);
          }
          if (end < 0) return NO_DIRECT;
          out.ensure(end);
          const buf = out.buf;
          let n = out.n;
          for (let i = 0; i < end; i++) buf[n++] = text[i];
          out.n = n;
          return OK;
        };
      }
      return (out) => {
        const v = readLong();
        if (!Number.isSafeInteger(v)) return FALLBACK;
        if (!direct) {
          out.ascii('\t');
          out.ascii(String(v));
          return OK;
        }
        const text = direct(v);
        if (text === undefined) return NO_DIRECT;
        out.ascii('\t');
        out.ascii(text);
        return OK;
      };
    }
    case 'map': {
      if (column.pgType !== 'jsonb' || skip || t.values !== 'boolean') return undefined;
      // As avsc's MapType reads it: blocks of (count, [size,] entries), into a plain object.
      const viaObject = (out: CopyBytes): Outcome => {
        const map: Record<string, boolean> = {};
        for (let count = readLong(); count; count = readLong()) {
          if (count < 0) {
            count = -count;
            readLong(); // the block's size in bytes
          }
          for (let i = 0; i < count; i++) {
            const len = readLong();
            if (!(len >= 0 && pos + len <= src.length)) return FALLBACK;
            const k = src.toString('utf8', pos, (pos += len));
            map[k] = !!src[pos++];
          }
        }
        out.ascii('\t');
        out.text(copyValue('jsonb', map));
        return OK;
      };
      return (out) => {
        const start = pos;
        const from = out.n;
        return plainMap(out) ? OK : ((pos = start), (out.n = from), viaObject(out));
      };
    }
    default:
      return undefined;
  }
}

// A map's keys seen so far, by hash (FNV-1a), stamped with the map's generation: no clearing, no allocation.
const SLOTS = 1024;
const stamps = new Int32Array(SLOTS);
const hashes = new Int32Array(SLOTS);
let generation = 0;

/**
 * A map of booleans written as JSON straight from its bytes: `\t{"key":true,...}`, the text
 * JSON.stringify gives the object avsc reads, when every key is plain (ASCII from space to ~, no
 * `"` or `\`: nothing for JSON or COPY to escape), cannot be an array index (an object lists those
 * first: no key starting with a digit), is not `__proto__` (no 9-byte key starting with `_`), and
 * differs from the others (a repeated key keeps its first place in an object: a repeated hash is
 * taken for one). False for anything else, with `pos` and `out` to rewind: the object's way then.
 * The object and its JSON string were ~7 % of the bytes the sink allocated (heap sample, session 11).
 */
function plainMap(out: CopyBytes): boolean {
  generation = (generation + 1) | 0;
  if (generation === 0) {
    stamps.fill(0);
    generation = 1;
  }
  out.ensure(2);
  out.buf[out.n++] = 9;
  out.buf[out.n++] = 123; // {
  let entries = 0;
  for (let count = readLong(); count; count = readLong()) {
    if (count < 0) {
      count = -count;
      readLong(); // the block's size in bytes
    }
    for (let i = 0; i < count; i++) {
      const len = readLong();
      if (!(len > 0 && pos + len < src.length) || ++entries > SLOTS / 2) return false;
      const first = src[pos];
      if ((first >= 48 && first <= 57) || (len === 9 && first === 95)) return false;
      out.ensure(len + 10);
      const buf = out.buf;
      let n = out.n;
      if (entries > 1) buf[n++] = 44; // ,
      buf[n++] = 34; // "
      let h = 0x811c9dc5 | 0;
      for (let end = pos + len; pos < end; pos++) {
        const b = src[pos];
        if (b < 32 || b > 126 || b === 34 || b === 92) return false;
        h = Math.imul(h ^ b, 0x01000193);
        buf[n++] = b;
      }
      let slot = h & (SLOTS - 1);
      for (; stamps[slot] === generation; slot = (slot + 1) & (SLOTS - 1)) if (hashes[slot] === h) return false;
      stamps[slot] = generation;
      hashes[slot] = h;
      buf[n++] = 34;
      buf[n++] = 58; // :
      if (src[pos++]) {
        buf[n++] = 116; // true
        buf[n++] = 114;
        buf[n++] = 117;
        buf[n++] = 101;
      } else {
        buf[n++] = 102; // false
        buf[n++] = 97;
        buf[n++] = 108;
        buf[n++] = 115;
        buf[n++] = 101;
      }
      out.n = n;
    }
  }
  out.ensure(1);
  out.buf[out.n++] = 125; // }
  return true;
}
