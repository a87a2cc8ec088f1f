import type { WriteOp, WriterSchema } from '../port';
import { CopyBytes, FALLBACK, NO_DIRECT, rowReader, type RowReader } from './avro-copy';
import { lineEncoder, type CopyTarget, type LineEncoder } from './statements';
import type { SinkTable } from './table';

type RowOp = Extract<WriteOp, { value: unknown }>;

/** COPY text of a batch: its chunks, and release() once COPY has sent them (their buffer is reused). */
export interface EncodedRows {
  readonly chunks: Buffer[];
  release(): void;
}

// Output buffers kept for the next batches: a batch's text is ~2x its 4 MiB of records, and a
// fresh multi-MB allocation per transaction is memory churn (and, outside the V8 heap, a nudge
// to the GC). Two at most (partitions are written concurrently), none larger than MAX_KEPT.
const spare: CopyBytes[] = [];
const MAX_SPARE = 2;
const MAX_KEPT = 16 * 1024 * 1024;

function acquire(size: number): CopyBytes {
  const found = spare.pop();
  if (found && found.buf.length >= size) {
    found.n = 0;
    return found;
  }
  return new CopyBytes(size);
}

function release(out: CopyBytes): void {
  if (spare.length < MAX_SPARE && out.buf.length <= MAX_KEPT && !spare.includes(out)) spare.push(out);
}

/**
 * A batch's rows as COPY text for `target`, `chunkRows` rows per Buffer (one CopyData message
 * each, views of one allocation); undefined when a row cannot go `target` (see FieldColumn.direct).
 * Each row is read straight from its record's Avro bytes (avro-copy.ts) where its writer schema
 * allows, else encoded from its decoded value (statements.ts lineEncoder): the same bytes.
 */
export function encodeRows(
  table: SinkTable,
  rows: readonly RowOp[],
  chunkRows: number,
  target: CopyTarget,
): EncodedRows | undefined {
  let estimate = 0;
  for (let i = 0; i < rows.length; i++) estimate += (rows[i].source.value?.length ?? 0) + 64;
  // Text is longer than Avro (booleans 1 byte -> 2, instants 6 -> 24): one growth at most, typically.
  const out = acquire(estimate * 2);
  const ends: number[] = [];
  let writer: WriterSchema | undefined;
  let read: RowReader | undefined;
  let encode: LineEncoder | undefined;
  for (let i = 0; i < rows.length; i++) {
    const op = rows[i];
    if (op.writer !== writer) {
      writer = op.writer;
      read = rowReader(table, writer, target);
      encode = undefined;
    }
    const start = out.n;
    const value = op.source.value;
    const outcome = read && value ? read(value, op.key, op.source.partition, op.source.offset, out) : FALLBACK;
    if (outcome === NO_DIRECT) return void release(out);
    if (outcome === FALLBACK) {
      out.n = start;
      encode ??= lineEncoder(table, writer, target);
      const line = encode(op);
      if (line === undefined) return void release(out);
      out.text(line);
    }
    if ((i + 1) % chunkRows === 0 || i === rows.length - 1) ends.push(out.n);
  }
  const chunks: Buffer[] = [];
  let from = 0;
  for (const end of ends) {
    chunks.push(out.buf.subarray(from, end));
    from = end;
  }
  let released = false;
  return {
    chunks,
    release: () => {
      if (!released) release(out);
      released = true;
    },
  };
}
