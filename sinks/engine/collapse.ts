import type { SourceRecord, WriteOp } from '../port';
import { isTombstone, type Decoded } from './decode';

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
  for (const { decoded, source } of records) {
    const before = last.get(decoded.key);
    const deletedAt =
      before === undefined ? undefined : before.kind === 'delete' ? before.source.offset : before.deletedAt;
    last.delete(decoded.key); // keep the surviving change at its key's last position
    last.set(
      decoded.key,
      isTombstone(decoded)
        ? { kind: 'delete', key: decoded.key, source }
        : {
            kind: 'upsert',
            key: decoded.key,
            // read through: the record is built only if the store reads it (decode.ts CheckedRecord)
            get value() {
              return decoded.value!;
            },
            writer: decoded.writer!,
            source,
            ...(deletedAt !== undefined ? { deletedAt } : {}),
          },
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
  for (const { decoded, source } of records) {
    if (isTombstone(decoded) || first.has(decoded.key)) continue;
    first.set(decoded.key, {
      kind: 'insert',
      key: decoded.key,
      get value() {
        return decoded.value!;
      },
      writer: decoded.writer!,
      source,
    });
  }
  return [...first.values()];
}
