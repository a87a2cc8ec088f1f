import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { avroType, type AvroSchemaJson } from '../../../schemas/avro';
import { frame } from '../../../schemas/wire';
import { mulberry32 } from '../../../simulator/prng';
import type { WriteOp, WriterSchema } from '../../../sinks/port';
import { encodeRows } from '../../../sinks/postgres/encode-rows';
import { SinkTable } from '../../../sinks/postgres/table';

/**
 * Review of encode-rows.ts / avro-copy.ts: once a batch's COPY text is encoded, the sink holds
 * nothing of the batch's records. A Kafka record's value is a view of its fetch's buffer (MBs),
 * so a reference kept past the batch keeps the whole fetch alive until the next batch.
 * Randomised sizes: ENCODE_REVIEW_SEED=<n> replays a run.
 */
const seed = Number(process.env.ENCODE_REVIEW_SEED ?? Math.floor(Math.random() * 2 ** 31));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

type RowOp = Extract<WriteOp, { value: unknown }>;

const SCHEMA = {
  type: 'record',
  name: 'User',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'name', type: ['null', 'string'], default: null },
    { name: 'active', type: 'boolean', default: false },
  ],
} as AvroSchemaJson;

describe(`encodeRows keeps no record bytes after the batch (ENCODE_REVIEW_SEED=${seed})`, () => {
  it("the last row's Avro bytes (a view of the fetch's buffer) are not held once the batch is encoded", async () => {
    const rnd = mulberry32(seed);
    const table = new SinkTable({ schema: 'public', name: 't' });
    table.absorb(SCHEMA);
    const type = avroType(SCHEMA);
    const writer: WriterSchema = { id: 7, json: SCHEMA, type, fields: new Set(['id', 'name', 'active']) };
    // The fetch: one large allocation; each record's value is a view of it, as kafkajs hands them out.
    const fetched = (): { ops: RowOp[]; fetch: WeakRef<ArrayBuffer> } => {
      const count = 1 + Math.floor(rnd() * 50);
      const framed = Array.from({ length: count }, (_, i) => {
        const value = { id: `005${i}`, name: rnd() < 0.5 ? null : `n${i}`, active: rnd() < 0.5 };
        return { value, bytes: frame(writer.id, type.toBuffer(value)) };
      });
      const fetch = new ArrayBuffer(4 * 1024 * 1024 + Math.floor(rnd() * 1024));
      let at = 0;
      const ops = framed.map(({ value, bytes }, i): RowOp => {
        const view = Buffer.from(fetch, at, bytes.length);
        bytes.copy(view);
        at += bytes.length;
        return {
          kind: 'upsert',
          key: value.id,
          value,
          writer,
          source: { topic: 't', partition: 0, offset: String(i), key: null, value: view },
        };
      });
      return { ops, fetch: new WeakRef(fetch) };
    };
    const batch = (): WeakRef<ArrayBuffer> => {
      const { ops, fetch } = fetched();
      const encoded = encodeRows(table, ops, 10, 'stage');
      expect(encoded?.chunks.length).toBeGreaterThan(0);
      encoded!.release();
      return fetch;
    };
    const fetch = batch();
    // WeakRef targets live until the current job ends: let it end, then collect.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect({ fetchHeldAfterBatch: fetch.deref() !== undefined }).toEqual({ fetchHeldAfterBatch: false });
  });
});
