import { Pool } from 'pg';
import { avroType, type AvroSchemaJson } from '../../../schemas/avro';
import { declareStream } from '../../../schemas/streams/types';
import { silentLogger } from '../../../kernel/logger';
import { mulberry32 } from '../../../simulator/prng';
import type { SinkStream, WriteOp, WriterSchema } from '../../../sinks/port';
import { createPostgresStore } from '../../../sinks/postgres/store';
import { sinkStreams } from '../../../sinks/streams';
import { services, uniqueName } from '../../support/services';

/**
 * The PostgreSQL store writes rows two ways: straight into the table by COPY (rows whose keys the
 * table does not hold: an initial load) and through a staging table merged by INSERT … ON
 * CONFLICT (updates). Both must store exactly what PostgreSQL's own conversion of the record
 * gives: here the same seeded random records go once into an empty table and once as updates
 * of existing rows, and the two tables are compared column by column, as PostgreSQL prints them.
 * BULK_SEED=<n> replays a run.
 */
const seed = Number(process.env.BULK_SEED ?? Math.floor(Math.random() * 2 ** 31));

const SCHEMA: AvroSchemaJson = {
  type: 'record',
  name: 'Sample',
  namespace: 'test.bulk',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'label', type: ['null', 'string'], default: null },
    { name: 'at', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
    { name: 'atMicros', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }], default: null },
    { name: 'day', type: ['null', { type: 'int', logicalType: 'date' }], default: null },
    { name: 'ratio', type: ['null', 'double'], default: null },
    { name: 'small', type: ['null', 'float'], default: null },
    { name: 'blob', type: ['null', 'bytes'], default: null },
    { name: 'flags', type: ['null', { type: 'map', values: 'boolean' }], default: null },
    { name: 'on', type: ['null', 'boolean'], default: null },
    { name: 'n', type: ['null', 'long'], default: null },
  ],
};
const SAMPLES = declareStream({
  name: 'samples',
  object: 'Sample__c',
  api: 'rest',
  mode: { kind: 'snapshot' },
  mapping: 'mapping/sample.csv',
  valueSchema: 'avro/sample-value.avsc',
  topic: { defaultName: 'bulk.samples', compacted: true },
  key: 'Id',
  sink: { table: 'bulk_samples', write: 'upsert', indexes: [['label']] },
});
const writer: WriterSchema = {
  id: 1,
  json: SCHEMA,
  type: avroType(SCHEMA),
  fields: new Set((SCHEMA as { fields: { name: string }[] }).fields.map((f) => f.name)),
};

const TEXTS = ['plain', "O'Brien", 'tab\there', 'line\nbreak\r', 'back\\slash', '漢字', '🙂', '', '\\N', 'a"b'];

function sample(rnd: () => number, key: string): Record<string, unknown> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const maybe = <T>(v: () => T): T | null => (rnd() < 0.15 ? null : v());
  // Instants across years 1–9999 and its edges; rarely outside (PostgreSQL's own conversion decides).
  const ms = () =>
    rnd() < 0.02
      ? pick([260_000_000_000_000, -260_000_000_000_000])
      : pick([
          -62135596800000 + Math.floor(rnd() * (253402300799999 + 62135596800000)),
          Math.floor(rnd() * 4e12),
          -62135596800000,
          253402300799999,
          0,
          -1,
          1_700_000_000_123,
        ]);
  return {
    id: key,
    label: maybe(() => pick(TEXTS) + Math.floor(rnd() * 10)),
    at: maybe(ms),
    atMicros: maybe(() => pick([ms() * 1000 + Math.floor(rnd() * 1000), -1, 1_700_000_000_123_456])),
    day: maybe(() => pick([-719162 + Math.floor(rnd() * 3_652_059), 0, -719162, 2_932_896, -1])),
    ratio: maybe(() => pick([rnd() * 1e6 - 5e5, Number.NaN, Number.POSITIVE_INFINITY, -0, 1e-300, 1.5e300])),
    small: maybe(() => pick([Math.fround(rnd() * 100), Number.NEGATIVE_INFINITY, 0])),
    blob: maybe(() => Buffer.from(Array.from({ length: Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 256)))),
    flags: maybe(() => ({ [pick(TEXTS)]: rnd() < 0.5, b: rnd() < 0.5 })),
    on: maybe(() => rnd() < 0.5),
    n: maybe(() => Math.floor((rnd() - 0.5) * 2 ** 52)),
  };
}

describe(`the bulk path (COPY straight into the table) and the staging path store the same (BULK_SEED=${seed})`, () => {
  const pool = new Pool({ connectionString: services().DATABASE_URL, max: 4 });
  pool.on('error', () => undefined);
  const names: string[] = [];
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS ${names.map((n) => `"${n}"`).join(', ')}`);
    await pool.query('DELETE FROM neurons_sink_offsets WHERE table_name = ANY($1)', [names]);
    await pool.end();
  });

  const open = async () => {
    const name = uniqueName('bulk_samples').replace(/-/g, '_');
    names.push(name);
    const store = createPostgresStore({ pool, chunkRows: 5, synchronousCommit: true, statementTimeoutMs: 30_000 });
    const [stream] = sinkStreams([SAMPLES], {
      topics: { samples: uniqueName('bulk-samples') },
      tables: { samples: { schema: 'public', name } },
      baseSchemas: { samples: SCHEMA },
    });
    await store.open([stream], { logger: silentLogger, latestSchema: async () => undefined });
    return { store, stream, name };
  };
  const ops = (stream: SinkStream, values: Record<string, unknown>[], from: number): WriteOp[] =>
    values.map((value, i) => ({
      kind: 'upsert',
      key: value.id as string,
      value,
      writer,
      source: { topic: stream.topic, partition: 0, offset: String(from + i), key: null, value: null },
    }));
  const dump = async (name: string) =>
    (
      await pool.query<{ id: string; r: string }>(
        `SELECT id, (SELECT string_agg(coalesce(v, 'NULL'), ' | ') FROM json_each_text(row_to_json(t)) AS j(k, v) ` +
          `WHERE k NOT LIKE '\\_kafka\\_%') AS r FROM "${name}" AS t ORDER BY id`,
      )
    ).rows;

  it('the same records, into an empty table and as updates of existing rows: the same columns', async () => {
    const rnd = mulberry32(seed);
    const keys = Array.from({ length: 60 }, (_, i) => `s${String(i).padStart(3, '0')}`);
    const values = keys.map((k) => sample(rnd, k));
    const bulk = await open();
    const staged = await open();
    // Existing rows of the same keys with other values: every record of the second write is an update.
    await staged.store.write({
      stream: staged.stream,
      partition: 0,
      ops: ops(
        staged.stream,
        keys.map((k) => ({ id: k, label: 'old' })),
        0,
      ),
      nextOffset: 60n,
    });
    // In batches of 10: a batch with a value only PostgreSQL can convert takes the staging path whole.
    const refused: string[][] = [[], []];
    for (let i = 0; i < values.length; i += 10) {
      for (const [j, t] of [bulk, staged].entries()) {
        const out = await t.store.write({
          stream: t.stream,
          partition: 0,
          ops: ops(t.stream, values.slice(i, i + 10), 100 + i),
          nextOffset: BigInt(110 + i),
        });
        refused[j].push(...out.rejected.map((r) => r.op.key));
      }
    }
    // Out-of-range instants are refused by either path alike (the same records dead-lettered).
    expect(refused[0]).toEqual(refused[1]);
    const staledRows = (await dump(staged.name)).filter((r) => !refused[1].includes(r.id));
    expect(await dump(bulk.name)).toEqual(staledRows);
    expect(staledRows.length).toBe(values.length - refused[1].length);
  });

  it('a record identical to its row leaves the row untouched (no new version); a changed one rewrites it', async () => {
    const rnd = mulberry32(seed ^ 0x2545f491);
    const keys = Array.from({ length: 30 }, (_, i) => `u${String(i).padStart(3, '0')}`);
    const values = keys.map((k): Record<string, unknown> => ({
      ...sample(rnd, k),
      at: 1_700_000_000_000,
      atMicros: null,
      day: 1,
    }));
    const t = await open();
    await t.store.write({ stream: t.stream, partition: 0, ops: ops(t.stream, values, 0), nextOffset: 30n });
    const versions = async () =>
      new Map(
        (await pool.query<{ id: string; v: string }>(`SELECT id, xmin::text AS v FROM "${t.name}"`)).rows.map((r) => [
          r.id,
          r.v,
        ]),
      );
    const before = await versions();
    const changed = new Set(keys.filter(() => rnd() < 0.2));
    const again = values.map((v) =>
      changed.has(v.id as string) ? { ...v, label: `changed ${v.label as string}` } : v,
    );
    await t.store.write({ stream: t.stream, partition: 0, ops: ops(t.stream, again, 30), nextOffset: 60n });
    const after = await versions();
    const rewritten = keys.filter((k) => after.get(k) !== before.get(k));
    expect(rewritten).toEqual(keys.filter((k) => changed.has(k)));
    const { rows } = await pool.query<{ id: string; label: string | null }>(`SELECT id, label FROM "${t.name}"`);
    expect(new Map(rows.map((r) => [r.id, r.label]))).toEqual(new Map(again.map((v) => [v.id as string, v.label])));
  });

  it("instants far from 1970 are stored exactly, by either path (Salesforce's 4000-12-31 'never')", async () => {
    // [instant, microseconds past its millisecond]: JS numbers hold exact microseconds within
    // about ±285 years of 1970 only, so farther instants carry none.
    const instants: [string, number][] = [
      ['4000-12-31T00:00:00.000Z', 0],
      ['9999-12-31T23:59:59.999Z', 0],
      ['0001-01-01T00:00:00.001Z', 0],
      ['2200-06-30T01:02:03.456Z', 7],
      ['1700-02-28T12:00:00.123Z', 993],
    ];
    const values = instants.map(([at, us], i) => ({
      id: `f${i}`,
      at: Date.parse(at),
      atMicros: Date.parse(at) * 1000 + us,
    }));
    const bulk = await open();
    const staged = await open();
    await staged.store.write({
      stream: staged.stream,
      partition: 0,
      ops: ops(
        staged.stream,
        values.map((v) => ({ id: v.id })),
        0,
      ),
      nextOffset: 10n,
    });
    for (const t of [bulk, staged])
      await t.store.write({ stream: t.stream, partition: 0, ops: ops(t.stream, values, 10), nextOffset: 20n });
    for (const t of [bulk, staged]) {
      const { rows } = await pool.query<{ at: string; us: string }>(
        `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, ` +
          `to_char(at_micros AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS us FROM "${t.name}" ORDER BY id`,
      );
      expect(rows).toEqual(
        instants.map(([at, us]) => ({
          at: `${at.slice(0, 23)}000Z`,
          us: `${at.slice(0, 23)}${String(us).padStart(3, '0')}Z`,
        })),
      );
    }
  });
});
