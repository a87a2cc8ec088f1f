import { FatalError, RecordError } from '../../kernel/errors';
import type { AvroSchemaJson } from '../../schemas/avro';
import {
  unapplied,
  type BatchWrite,
  type Sink,
  type SinkStream,
  type WriteCounts,
  type WriteOutcome,
  type WriterSchema,
} from '../port';

/** A row as the memory sink keeps it: Avro field name → value, every field the stream has known. */
export type MemoryRow = Record<string, unknown>;

/** The memory sink, with read access to what it holds (for tests and as the port's reference). */
export interface MemorySink extends Sink {
  /** The rows of a stream, by key. */
  rows(stream: string): ReadonlyMap<string, MemoryRow>;
  offsets(stream: string): ReadonlyMap<number, bigint>;
}

interface StreamState {
  stream: SinkStream;
  /** Field name → the Avro default a record without it gets (the union of all writer schemas). */
  fields: Map<string, unknown>;
  record?: string;
  rows: Map<string, MemoryRow>;
  offsets: Map<number, bigint>;
}

/**
 * The reference implementation of the sink port, in memory: what the port promises with no
 * database in the way, so the conformance suite can hold PostgreSQL to the same results. One
 * write is atomic (the new state is built aside and swapped in only when nothing failed), the
 * stored offset fences replays, and a record whose id is empty is refused as bad data, as
 * PostgreSQL's CHECK (id <> '') refuses it. Not for production: nothing survives the process.
 */
export function createMemorySink(): MemorySink {
  const streams = new Map<string, StreamState>();
  const state = (stream: SinkStream): StreamState => {
    const s = streams.get(stream.name);
    if (!s) throw new FatalError('SINK_TOPIC_UNKNOWN', `stream ${stream.name} was not opened`);
    return s;
  };
  const absorb = (s: StreamState, json: AvroSchemaJson): string[] => {
    const schema = json as { name?: string; namespace?: string; fields?: { name: string; default?: unknown }[] };
    const name =
      schema.namespace && !String(schema.name).includes('.')
        ? `${schema.namespace}.${schema.name}`
        : String(schema.name);
    if (s.record !== undefined && s.record !== name)
      throw new FatalError('SCHEMA_UNSUPPORTED', `stream ${s.stream.name} holds ${s.record} records, not ${name}`);
    if (!schema.fields?.some((f) => f.name === 'id'))
      throw new FatalError(
        'SCHEMA_UNSUPPORTED',
        `stream ${s.stream.name}: the schema has no field "id" to key rows by`,
      );
    s.record = name;
    const fresh = schema.fields.filter((f) => !s.fields.has(f.name));
    for (const f of fresh) s.fields.set(f.name, f.default === undefined ? null : f.default);
    return fresh.map((f) => f.name);
  };

  return {
    async open(list, ctx) {
      for (const stream of list) {
        const s: StreamState = streams.get(stream.name) ?? {
          stream,
          fields: new Map(),
          rows: new Map(),
          offsets: new Map(),
        };
        streams.set(stream.name, s);
        absorb(s, stream.baseSchema);
        const latest = await ctx.latestSchema(stream);
        if (latest) absorb(s, latest);
      }
    },
    evolve(stream: SinkStream, writer: WriterSchema) {
      absorb(state(stream), writer.json);
      return undefined;
    },
    async write(batch: BatchWrite): Promise<WriteOutcome> {
      const s = state(batch.stream);
      await batch.inside?.();
      const stored = s.offsets.get(batch.partition) ?? 0n;
      const counts: WriteCounts = { upserted: 0, inserted: 0, deleted: 0 };
      if (stored >= batch.nextOffset) return { ...counts, skipped: batch.ops.length, rejected: [] };
      const fresh = unapplied(batch.ops, stored);
      // Built aside: the batch lands whole or not at all.
      const rows = new Map(s.rows);
      const others = new Map<StreamState, Map<string, MemoryRow>>();
      const rejected: WriteOutcome['rejected'] = [];
      for (const op of fresh) {
        // A tombstone, or a value after its key's tombstone in the batch (collapse.ts: deletedAt): delete first.
        if (op.kind === 'delete' || op.deletedAt !== undefined) {
          if (rows.delete(op.key)) counts.deleted++;
          for (const c of batch.stream.deletesCascadeTo) {
            const target = streams.get(c.stream);
            if (!target) continue;
            const theirs = others.get(target) ?? new Map(target.rows);
            others.set(target, theirs);
            for (const [k, row] of theirs) if (row[c.field] === op.key) theirs.delete(k);
          }
          if (op.kind === 'delete') continue;
        }
        if (op.key === '') {
          rejected.push({
            op,
            error: new RecordError('empty id: a record must have a key', { code: 'DB_CONSTRAINT_VIOLATION' }),
          });
          continue;
        }
        if (op.kind === 'insert' && rows.has(op.key)) continue;
        const row: MemoryRow = {};
        for (const [field, fallback] of s.fields)
          row[field] = op.writer.fields?.has(field) ? (op.value[field] ?? null) : fallback;
        row.id = op.key; // the key is the identity, whatever the value says
        rows.set(op.key, row);
        if (op.kind === 'upsert') counts.upserted++;
        else counts.inserted++;
      }
      await batch.beforeCommit?.(rejected, stored);
      s.rows = rows;
      for (const [target, theirs] of others) target.rows = theirs;
      s.offsets.set(batch.partition, stored > batch.nextOffset ? stored : batch.nextOffset);
      return { ...counts, skipped: batch.ops.length - fresh.length, rejected };
    },
    async storedOffsets(stream) {
      return new Map(state(stream).offsets);
    },
    probe: async () => true,
    async close() {},
    rows: (name) => streams.get(name)?.rows ?? new Map(),
    offsets: (name) => streams.get(name)?.offsets ?? new Map(),
  };
}
