import type { WriteOp, WriterSchema } from '../port';
import { CopyBytes, FALLBACK, NO_DIRECT, rowReader, type RowReader } from './avro-copy';
import { lineEncoder, type CopyTarget, type LineEncoder } from './statements';
import type { SinkTable } from './table';

type RowOp = Extract<WriteOp, { value: unknown }>;

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
): Buffer[] | undefined {
  let estimate = 0;
  for (let i = 0; i < rows.length; i++) estimate += (rows[i].source.value?.length ?? 0) + 64;
  // Text is longer than Avro (booleans 1 byte -> 2, instants 6 -> 24): one growth at most, typically.
  const out = new CopyBytes(estimate * 2);
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
    if (outcome === NO_DIRECT) return undefined;
    if (outcome === FALLBACK) {
      out.n = start;
      encode ??= lineEncoder(table, writer, target);
      const line = encode(op);
      if (line === undefined) return undefined;
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
  return chunks;
}
