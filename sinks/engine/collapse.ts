import type { SourceRecord, WriteOp } from '../port';
import { isTombstone, type Decoded, type WriterSchema } from './decode';

export type { SourceRecord, WriteOp };

export interface DecodedRecord {
  readonly decoded: Decoded;
  readonly source: SourceRecord;
}

/**
 * Upsert streams (users): the batch's records in Kafka order → one change per key, the last one winning. A
 * value upserts, a tombstone deletes; an earlier upsert of a key deleted later in the same batch
 * is superseded. A tombstone followed by a value is not simply superseded: the deletion's effects
 * on other streams (a removed user's login events) happened, so the upsert carries `deletedAt`
 * and the store deletes first. The outcome is then the same wherever the batch boundaries fall
 * (fetches, slices). Keys are independent, so the database may apply the changes in any order
 * within the batch's transaction. Pure.
 */
export function collapseUpserts(records: readonly DecodedRecord[]): WriteOp[] {
  const last = new Map<string, WriteOp>();
  for (let i = 0; i < records.length; i++) {
    const { decoded, source } = records[i];
    const before = last.get(decoded.key);
    const deletedAt =
      before === undefined ? undefined : before.kind === 'delete' ? before.source.offset : before.deletedAt;
    last.delete(decoded.key); // keep the surviving change at its key's last position
    last.set(
      decoded.key,
      isTombstone(decoded)
        ? { kind: 'delete', key: decoded.key, source }
        : new RowChange('upsert', decoded, source, deletedAt),
    );
  }
  return [...last.values()];
}

/**
 * Append streams (login events): immutable, identified by their key (LoginHistory Id) → one
 * insert per key, the first one kept (the table keeps the first it ever stored too: ON CONFLICT DO NOTHING). Tombstones
 * must be filtered out before. Pure.
 */
export function collapseInserts(records: readonly DecodedRecord[]): WriteOp[] {
  const first = new Map<string, WriteOp>();
  for (let i = 0; i < records.length; i++) {
    const { decoded, source } = records[i];
    if (isTombstone(decoded) || first.has(decoded.key)) continue;
    first.set(decoded.key, new RowChange('insert', decoded, source, undefined));
  }
  return [...first.values()];
}

/**
 * An upsert or insert whose value is read through to its record: built only if the store reads
 * it (decode.ts CheckedRecord). A class, not an object literal with a getter: that literal cost a
 * closure and an accessor pair per record (~300 bytes a login event in a heap sample, session 11).
 * Copy one with its `value` read, not by spreading it (the getter is on the prototype).
 */
class RowChange {
  readonly key: string;
  readonly writer: WriterSchema;
  constructor(
    readonly kind: 'upsert' | 'insert',
    private readonly decoded: Decoded,
    readonly source: SourceRecord,
    readonly deletedAt: string | undefined,
  ) {
    this.key = decoded.key;
    this.writer = decoded.writer!;
  }
  get value(): Record<string, unknown> {
    return this.decoded.value!;
  }
}
