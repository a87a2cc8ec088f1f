import { avroType, loadConnectorSchemas, type AvroSchemaJson } from '../../../schemas/avro';
import { frame } from '../../../schemas/wire';
import { mulberry32 } from '../../../simulator/prng';
import type { WriteOp, WriterSchema } from '../../../sinks/port';
import { rowReader } from '../../../sinks/postgres/avro-copy';
import { encodeRows } from '../../../sinks/postgres/encode-rows';
import { lineEncoder, type CopyTarget } from '../../../sinks/postgres/statements';
import { SinkTable } from '../../../sinks/postgres/table';

/**
 * The COPY text read straight from the Avro bytes (avro-copy.ts, through encodeRows) is exactly
 * the text encoded from the decoded values (statements.ts lineEncoder, the path before): random
 * users and login events of the shipped schemas (nulls, escapes \t \n \\ \r, unicode, instants
 * from year 0001 to beyond 9999, NaN and infinities, map keys like __proto__ and "10"), for both
 * targets, through older and reordered writer schemas and odd bytes (invalid UTF-8). Randomised:
 * AVRO_COPY_SEED=<n> replays a run.
 */
const seed = Number(process.env.AVRO_COPY_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Json = Record<string, unknown>;
type RowOp = Extract<WriteOp, { value: unknown }>;

const PIECES = [
  'a',
  'Z',
  '0',
  ' ',
  '\t',
  '\n',
  '\r',
  '\\',
  '\\N',
  'é',
  'ß',
  '日本',
  '😀',
  '"',
  "'",
  ',',
  '\u0000',
  '{}',
];
const INSTANTS = [
  Date.UTC(4000, 11, 31),
  new Date('0001-01-01T00:00:00.000Z').getTime(),
  new Date('0001-01-01T00:00:00.000Z').getTime() - 1,
  new Date('9999-12-31T23:59:59.999Z').getTime(),
  new Date('9999-12-31T23:59:59.999Z').getTime() + 1,
  0,
  -1,
  Number.MAX_SAFE_INTEGER - 1, // avsc refuses longs of magnitude 2^53 - 1 and beyond
  Number.MIN_SAFE_INTEGER + 1,
  8.64e15,
];
const DOUBLES = [0, -0, 1.5, -2.25, 1e300, 5e-324, NaN, Infinity, -Infinity, 51.5072, -0.1278, 2 ** 60];

function generator(rnd: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const str = () => Array.from({ length: Math.floor(rnd() * 6) }, () => pick(PIECES)).join('');
  const value = (type: unknown): unknown => {
    if (Array.isArray(type)) return rnd() < 0.3 ? null : value(type.find((t) => t !== 'null'));
    const t = (typeof type === 'string' ? { type } : type) as Json;
    switch (t.type) {
      case 'string':
        return str();
      case 'boolean':
        return rnd() < 0.5;
      case 'double':
        return rnd() < 0.5 ? pick(DOUBLES) : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 20);
      case 'long':
        return rnd() < 0.4 ? pick(INSTANTS) : Math.floor(Date.UTC(2020, 0, 1) + rnd() * 1e11);
      case 'enum':
        return pick(t.symbols as string[]);
      case 'map': {
        const out: Record<string, boolean> = {};
        const keys = ['__proto__', '10', '2', 'ViewSetup', 'a\tb', 'é', 'x\\y', 'ApiEnabled'];
        for (let i = Math.floor(rnd() * 5); i > 0; i--) out[pick(keys)] = rnd() < 0.5;
        return out;
      }
      default:
        throw new Error(`generator: no values for ${JSON.stringify(t)}`);
    }
  };
  return { pick, value };
}

/** Older writer: some fields dropped (their columns get defaults); reordered: fields shuffled. */
function variant(schema: AvroSchemaJson, rnd: () => number, how: 'older' | 'reordered'): AvroSchemaJson {
  const s = schema as Json;
  const fields = (s.fields as Json[]).slice();
  if (how === 'older')
    return {
      ...s,
      fields: fields.filter((f) => f.name === 'id' || !('default' in f) || rnd() < 0.7),
    } as AvroSchemaJson;
  for (let i = fields.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [fields[i], fields[j]] = [fields[j], fields[i]];
  }
  return { ...s, fields } as AvroSchemaJson;
}

function rows(
  table: SinkTable,
  writers: { writer: WriterSchema; json: Json }[],
  rnd: () => number,
  count: number,
): RowOp[] {
  const g = generator(rnd);
  const out: RowOp[] = [];
  for (let i = 0; i < count; i++) {
    const { writer, json } = g.pick(writers);
    const record: Json = {};
    for (const f of json.fields as Json[]) record[f.name as string] = g.value(f.type);
    const key = `005${String(i).padStart(15, '0')}`;
    record.id = rnd() < 0.1 ? `${key}\t\\` : key;
    let value = frame(writer.id, writer.type.toBuffer(record));
    if (rnd() < 0.05) value = invalidUtf8(value, writer, record);
    const decoded = writer.type.fromBuffer(value.subarray(5)) as Json;
    const source = { topic: 't', partition: Math.floor(rnd() * 3), offset: String(i * 7), key: null, value };
    out.push({ kind: 'upsert', key: String(record.id), value: decoded, writer, source });
  }
  void table;
  return out;
}

/** A string field's bytes replaced by invalid UTF-8 of the same length (avsc reads U+FFFD). */
function invalidUtf8(value: Buffer, writer: WriterSchema, record: Json): Buffer {
  const name = ((writer.json as Json).fields as Json[]).find(
    (f) =>
      f.name !== 'id' &&
      typeof record[f.name as string] === 'string' &&
      (record[f.name as string] as string).length > 1,
  )?.name as string | undefined;
  if (!name) return value;
  const text = Buffer.from(record[name] as string);
  const at = value.indexOf(text, 5);
  const copy = Buffer.from(value);
  copy[at] = 0xff;
  return copy;
}

/** The exact bytes (a UTF-8 decoding would hide invalid sequences), readable where they are ASCII. */
const bytes = (b: Buffer) => b.toString('latin1');

function reference(table: SinkTable, ops: readonly RowOp[], chunkRows: number, target: CopyTarget) {
  const lines: string[] = [];
  for (const op of ops) {
    const line = lineEncoder(table, op.writer, target)(op);
    if (line === undefined) return undefined;
    lines.push(line);
  }
  const chunks: string[] = [];
  for (let i = 0; i < lines.length; i += chunkRows)
    chunks.push(bytes(Buffer.from(lines.slice(i, i + chunkRows).join(''))));
  return chunks;
}

describe(`COPY text straight from Avro bytes = COPY text from decoded values (AVRO_COPY_SEED=${seed})`, () => {
  const schemas = loadConnectorSchemas();
  let id = 1000;
  const writerOf = (json: AvroSchemaJson): { writer: WriterSchema; json: Json } => {
    const type = avroType(json);
    return {
      writer: {
        id: ++id,
        json,
        type,
        fields: new Set((json as { fields: Json[] }).fields.map((f) => f.name as string)),
      },
      json: json as Json,
    };
  };

  for (const [name, schema] of [
    ['users', schemas.userValue],
    ['login events', schemas.loginEventValue],
  ] as const) {
    it(`${name}: same bytes for both targets, every chunking, older and reordered writers`, () => {
      const rnd = mulberry32(seed + (name === 'users' ? 0 : 1));
      for (let round = 0; round < 12; round++) {
        const table = new SinkTable({ schema: 'public', name: 't' });
        const base = writerOf(schema);
        table.absorb(schema);
        const writers = [base];
        if (round % 3 === 1) writers.push(writerOf(variant(schema, rnd, 'older')));
        if (round % 3 === 2) writers.push(writerOf(variant(schema, rnd, 'reordered')));
        for (const w of writers) table.absorb(w.json as AvroSchemaJson);
        // The shipped schema is read from its bytes (no fallback for the whole writer).
        expect(rowReader(table, base.writer, 'stage')).toBeDefined();
        expect(rowReader(table, base.writer, 'direct')).toBeDefined();
        const ops = rows(table, writers, rnd, 1 + Math.floor(rnd() * 60));
        const chunkRows = 1 + Math.floor(rnd() * 20);
        for (const target of ['stage', 'direct'] as const) {
          const want = reference(table, ops, chunkRows, target);
          const got = encodeRows(table, ops, chunkRows, target)?.chunks.map(bytes);
          expect({ round, target, text: got }).toEqual({ round, target, text: want });
        }
      }
    });
  }

  it('direct: a batch with an instant only PostgreSQL can convert goes to the staging path (undefined)', () => {
    const rnd = mulberry32(seed + 2);
    const table = new SinkTable({ schema: 'public', name: 't' });
    const w = writerOf(schemas.loginEventValue);
    table.absorb(schemas.loginEventValue);
    const ops = rows(table, [w], rnd, 5);
    const field = (w.json.fields as Json[]).find((f) => JSON.stringify(f.type).includes('timestamp-millis'))!
      .name as string;
    const odd = { ...(ops[2].value as Json), [field]: 8.64e15 };
    ops[2] = {
      ...ops[2],
      value: odd,
      source: { ...ops[2].source, value: frame(w.writer.id, w.writer.type.toBuffer(odd)) },
    };
    expect(encodeRows(table, ops, 2, 'direct')).toBeUndefined();
    expect(reference(table, ops, 2, 'direct')).toBeUndefined();
    expect(encodeRows(table, ops, 2, 'stage')?.chunks.map(bytes)).toEqual(reference(table, ops, 2, 'stage'));
  });
});
