import type avro from 'avsc';
import type { IHeaders } from 'kafkajs';
import type { AvroSchemaJson } from '../schemas/avro';
import type { ConnectorError, RecordError } from '../kernel/errors';
import type { Logger } from '../kernel/logger';

/**
 * The sink port: what a store must do to receive declared streams from Kafka. The engine
 * (sinks/engine/) owns everything generic: the consumer group, decoding by the registry,
 * collapsing per key, dead letters, retries, the circuit breaker and health. A store
 * (sinks/postgres/, sinks/memory/) only keeps rows and offsets, one transaction per batch.
 *
 * Errors are the one family (kernel/errors.ts): a store rejects with RetriableError for a
 * passing fault (the batch is retried from the stored offsets), FatalError for what needs a
 * person (the sink stops), and reports refused records as RecordErrors in the outcome (they
 * are dead-lettered; the rest of the batch commits).
 */
export interface Sink {
  /** Creates or evolves what each stream lands in (tables, indexes, views), and the offsets store. */
  open(
    streams: readonly SinkStream[],
    ctx: {
      logger: Logger;
      latestSchema(stream: SinkStream): Promise<AvroSchemaJson | undefined>;
      /**
       * The end offset of each partition of the stream's topic that holds records, taken now:
       * the backlog the sink starts with. Given only when the sink reads a new group from the
       * beginning; a store may then load an empty table in bulk up to there (postgres/bulk.ts).
       * Undefined: unknown (e.g. the topic does not exist yet).
       */
      endOffsets?(stream: SinkStream): Promise<ReadonlyMap<number, bigint> | undefined>;
    },
  ): Promise<void>;
  /**
   * Throws (RecordError or FatalError SCHEMA_UNSUPPORTED) when records of this writer schema
   * cannot be stored at all; called once per registry id, before any record of it is written.
   */
  acceptSchema?(json: AvroSchemaJson): void;
  /**
   * A writer schema met in a message: synchronously checks it fits the stream (throws
   * FatalError SCHEMA_UNSUPPORTED otherwise: its records are dead-lettered) and returns the
   * change to the store still to make (new columns), or undefined. The engine runs the change
   * under its retries, before any write of the stream.
   */
  evolve(stream: SinkStream, writer: WriterSchema): (() => Promise<unknown>) | undefined;
  /** Applies one batch of one partition atomically with its next offset (see BatchWrite). */
  write(batch: BatchWrite): Promise<WriteOutcome>;
  /** The stored positions of a stream's topic: partition → offset of the next record to apply. */
  storedOffsets(stream: SinkStream): Promise<Map<number, bigint>>;
  /** True when the store answers (for /health). Never rejects. */
  probe(): Promise<boolean>;
  /** Extra dead-letter headers for an error the store raised (PostgreSQL: the SQLSTATE). */
  deadLetterHeaders?(error: ConnectorError): IHeaders;
  close(): Promise<void>;
}

/** One declared stream as a sink receives it: names resolved (config overrides applied). */
export interface SinkStream {
  /** The declaration's name (schemas/streams). */
  readonly name: string;
  readonly topic: string;
  /** Where rows land: namespace (PostgreSQL schema) and name. */
  readonly table: { readonly schema: string; readonly name: string };
  /** `upsert`: a record replaces its key's row, a tombstone deletes it. `append`: insert once per key. */
  readonly write: 'upsert' | 'append';
  /** Lookups to index (Avro field names). */
  readonly indexes: readonly (readonly string[])[];
  /** SQL files of views over the stream's table, absolute paths. */
  readonly views: readonly string[];
  /** The schema the table starts from (the one this build ships). */
  readonly baseSchema: AvroSchemaJson;
  /**
   * Rows of other streams removed with a deleted key, in the same transaction: e.g. a removed
   * user's login events (the sink option onUserRemoved: delete-logins). `field` is the Avro
   * field of the other stream that holds this stream's key.
   */
  readonly deletesCascadeTo: readonly { readonly stream: string; readonly field: string }[];
}

/** A writer schema met in a message, parsed once per registry id. */
export interface WriterSchema {
  readonly id: number;
  readonly json: AvroSchemaJson;
  readonly type: avro.Type;
  /** The record's field names (undefined for the key's string schema). */
  readonly fields?: ReadonlySet<string>;
  /** Checks a body decodes without building the record (schemas/avro-check.ts); returns its string id. */
  readonly check?: (body: Buffer) => string | undefined;
}

/** Where a record came from, with its raw bytes (what the dead-letter topic receives). */
export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders;
}

/** One row-level change, after collapsing a batch (one per key). */
export type WriteOp =
  | {
      readonly kind: 'upsert' | 'insert';
      readonly key: string;
      readonly value: Record<string, unknown>;
      readonly writer: WriterSchema;
      readonly source: SourceRecord;
      /**
       * Offset of the key's last tombstone earlier in the same batch (an upsert stream): its row, and
       * the rows its deletion cascades to, are deleted before this upsert, as applying the records
       * one by one would; without it the outcome would depend on where the batch boundaries fall.
       * Only while that tombstone is at or above the stored offset (see `unapplied`).
       */
      readonly deletedAt?: string;
    }
  | { readonly kind: 'delete'; readonly key: string; readonly source: SourceRecord };

/** True when the change deletes the key's row and its cascades: a tombstone, or a value after one (deletedAt). */
export function deletesFirst(op: WriteOp): boolean {
  return op.kind === 'delete' || op.deletedAt !== undefined;
}

/**
 * The changes a store still has to apply, given the partition's stored offset: those of records at
 * or above it (the others were applied by an earlier transaction, maybe another process's). An
 * upsert whose tombstone is below it no longer deletes first: that deletion was applied then, and
 * the rows that arrived since (a returning user's new login events) stay.
 */
export function unapplied(ops: readonly WriteOp[], stored: bigint): WriteOp[] {
  // Compared as numbers while the stored offset is exact as one (a BigInt parsed per record was
  // garbage for every record of an initial load); an offset string beyond 2^53 is then above it.
  const exact = stored <= BigInt(Number.MAX_SAFE_INTEGER);
  const at = Number(stored);
  const below = (offset: string) => (exact ? Number(offset) < at : BigInt(offset) < stored);
  const out: WriteOp[] = [];
  for (const op of ops) {
    if (below(op.source.offset)) continue;
    if (op.kind !== 'delete' && op.deletedAt !== undefined && below(op.deletedAt))
      // copied field by field: a WriteOp may read its value through a getter (engine/collapse.ts)
      out.push({ kind: op.kind, key: op.key, value: op.value, writer: op.writer, source: op.source });
    else out.push(op);
  }
  return out;
}

export interface WriteCounts {
  upserted: number;
  inserted: number;
  deleted: number;
}

export interface WriteOutcome extends WriteCounts {
  /** Changes left out: their records were below the stored offset (already applied). */
  skipped: number;
  /** Changes the store refused as bad data: dead-letter their records. */
  rejected: { op: WriteOp; error: RecordError }[];
}

/**
 * One batch of one partition for ONE transaction: the store locks the partition's stored
 * offset, leaves out changes of records below it (applied before, maybe by another process), and
 * changes nothing when the whole batch is below it; applies the rest (deletes, cascades, upserts,
 * inserts); stores `nextOffset`; calls beforeCommit; commits. A failure rolls back everything.
 */
export interface BatchWrite {
  readonly stream: SinkStream;
  readonly partition: number;
  readonly ops: readonly WriteOp[];
  /** Offset of the record after the batch: stored with the rows. */
  readonly nextOffset: bigint;
  /** Test seam: runs right after the transaction began. */
  inside?(): Promise<void> | void;
  /**
   * Runs last before COMMIT, with the refused changes and the stored offset the batch started
   * from: the engine sends its dead letters here, so they are acknowledged before the offsets
   * move past them. Throwing rolls the transaction back.
   */
  beforeCommit?(rejected: WriteOutcome['rejected'], stored: bigint): Promise<void>;
}
