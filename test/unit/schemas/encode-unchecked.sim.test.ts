import avro from 'avsc';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createUserStage } from '../../../pipeline/stages';
import { avroType } from '../../../schemas/avro';
import { loadCatalog } from '../../../schemas/catalog';
import { readSchemaFile } from '../../../schemas/files';
import { encodeFramed } from '../../../schemas/wire';
import { mulberry32 } from '../../../simulator/prng';
import { simUserRows } from '../connectors/salesforce/sim-helpers';
import { encodeFramedChecked } from './fixtures/encode-framed-checked';

/**
 * encodeFramed writes a flat record without avsc's check walking it first; a value the writer
 * refuses is then checked to name its fields. It must give what check-then-encode gave
 * (fixtures/encode-framed-checked.ts, the code before): the same bytes, or the same error (class,
 * message, code, field), i.e. a record the check refuses is still dead-lettered with the same reason.
 * Two sources of values, seeded (UNCHECKED_SEED=n replays):
 * - the simulator's users as Bulk rows changed at random into hostile CSV (every column type of the
 *   mapping: longs and doubles past their ranges, NaN, exponents, datetimes at the calendar's
 *   edges, empty strings, Unicode with lone surrogates, enum-like and prototype names), through the
 *   user stage; what it maps is encoded both ways;
 * - values built from every schema in schemas/avro, field by field, with hostile JS values in
 *   random fields (undefined, NaN, ±Infinity, 2^53, -0, 1.5, strings for numbers, objects, arrays,
 *   Buffers, "__proto__" for an enum, maps with a bad value), and whole values that are not records.
 */
const SEED = Number(process.env.UNCHECKED_SEED ?? Math.floor(Math.random() * 2 ** 31));
const NOW = '2026-11-01T00:00:00.000Z';

type Outcome = { hex: string } | { error: string; message: string; code?: string; field?: string };

function outcome(encode: () => Buffer): Outcome {
  try {
    return { hex: encode().toString('hex') };
  } catch (err) {
    const e = err as Error & { code?: string; field?: string };
    return { error: e.constructor.name, message: e.message, code: e.code, field: e.field };
  }
}

const HOSTILE: unknown[] = [
  undefined,
  null,
  Number.NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  -(2 ** 53),
  9007199254740990,
  9007199254740991,
  2 ** 31,
  -(2 ** 31) - 1,
  1.5,
  -0,
  0,
  '',
  '1',
  '\ud800',
  'é€😀',
  true,
  false,
  {},
  { a: true },
  { a: 'yes' },
  [],
  [true],
  Buffer.from('x'),
  '__proto__',
  'toString',
  'active',
  'frozen',
  new Date(0),
  Symbol.for('s'),
  BigInt(1),
];

/** A value that fits `type` (avsc's own random value, or null for a union with null). */
function fitting(type: avro.Type, rnd: () => number): unknown {
  if (type instanceof avro.types.UnwrappedUnionType && rnd() < 0.3 && type.types[0]?.typeName === 'null') return null;
  return type.random();
}

describe(`encodeFramed without the check first (UNCHECKED_SEED=${SEED})`, () => {
  const catalog = loadCatalog();
  const userType = avroType(catalog.schemas.userValue);
  let rows: Record<string, string>[] = [];

  beforeAll(async () => {
    rows = (await simUserRows({ users: 200, now: NOW, seed: (SEED % 1000) + 1 })).rows;
  });

  test("a user record that fits is written without avsc's check walking it", () => {
    const stage = createUserStage(catalog.userMapping);
    const ctx = {
      instanceUrl: 'https://x.my.salesforce.com/',
      orgId: 'o',
      connectorName: 'c',
      runId: 'r',
      extractedAt: 1,
    };
    const mapped = stage(rows[0] as Record<string, string>, ctx);
    if (!mapped.ok) throw mapped.error;
    const isValid = jest.spyOn(avro.Type.prototype, 'isValid');
    const bytes = encodeFramed(userType, 7, mapped.record);
    expect(isValid).not.toHaveBeenCalled();
    isValid.mockRestore();
    expect(bytes.equals(encodeFramedChecked(userType, 7, mapped.record))).toBe(true);
  });

  test('hostile Bulk rows through the user stage: the same bytes or the same refusal', () => {
    const rnd = mulberry32(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const byType: Record<string, string[]> = {
      long: ['9007199254740991', '9007199254740992', '-9007199254740991', '-0', '0', '1e3', '1.0', ' 1', '+1'],
      int: ['2147483647', '2147483648', '-2147483648', '-2147483649', '1.5'],
      double: [
        'NaN',
        'Infinity',
        '-Infinity',
        '1e308',
        '1e309',
        '-0',
        '.5',
        '5.',
        '1.7976931348623157e308',
        '4.9e-324',
      ],
      'timestamp-millis': [
        '0001-01-01T00:00:00.000Z',
        '0100-01-01T00:00:00.000+14:00',
        '9999-12-31T23:59:59.999Z',
        '9999-12-31T23:59:59.999-14:00',
        '1969-12-31T23:59:59.999Z',
        '1970-01-01T00:00:00Z',
        '2024-02-29T12:00:00.000Z',
        '2023-02-29T12:00:00.000Z',
        '2024-12-31T24:00:00.000Z',
        '+275760-09-13T00:00:00.000Z',
        '2024-06-01T12:00:00.123456789Z',
      ],
      boolean: ['true', 'false', 'TRUE', '1', 'yes'],
      id: ['005000000000001AAA', '005000000000001', '005-000000000001AA', '\u00e9'.repeat(18)],
      string: ['é€😀x', '\ud800', '\udfff\ud800', '\u0000\u0001"', 'x'.repeat(70_000), ' ', '__proto__'],
    };
    const types = new Map(catalog.userMapping.rows.map((m) => [m.sourceField, m.type] as const));
    const stage = createUserStage(catalog.userMapping);
    const ctx = {
      instanceUrl: 'https://x.my.salesforce.com/',
      orgId: 'o',
      connectorName: 'c',
      runId: 'r',
      extractedAt: 1,
    };
    let encoded = 0;
    let refusedByEncoding = 0;
    for (let round = 0; round < 4; round++) {
      for (const [i, row] of rows.entries()) {
        // a few columns of each row emptied or made hostile for their type (or any type)
        const out: Record<string, string> = { ...row };
        const columns = Object.keys(row).filter((k) => k !== 'Id');
        for (let n = Math.floor(rnd() * 6); n > 0; n--) {
          const k = pick(columns);
          const t = types.get(k) ?? (k.startsWith('UserP') ? 'boolean' : 'string');
          const r = rnd();
          out[k] = r < 0.3 ? '' : r < 0.9 ? pick(byType[t] ?? byType.string!) : pick(Object.values(byType).flat());
        }
        if (rnd() < 0.3)
          out[`UserPreferences${pick(['New', '__proto__', 'Ääh', ''])}`] = pick(['true', 'false', '', 'x']);
        const mapped = stage(out, ctx);
        if (!mapped.ok) continue;
        // the stage refuses what it cannot convert; a record it yields is encoded both ways, and a
        // changed field (the mapper's output made hostile) too
        const record: Record<string, unknown> = { ...mapped.record };
        if (rnd() < 0.3) {
          const f = pick((userType as avro.types.RecordType).fields);
          record[f.name] = pick(HOSTILE);
        }
        const id = Math.floor(rnd() * 0x7fffffff);
        const want = outcome(() => encodeFramedChecked(userType, id, record));
        expect({ round, i, got: outcome(() => encodeFramed(userType, id, record)) }).toEqual({ round, i, got: want });
        encoded++;
        if ('error' in want) refusedByEncoding++;
      }
    }
    expect(encoded).toBeGreaterThan(200);
    expect(refusedByEncoding).toBeGreaterThan(10);
    console.log(`encode-unchecked: seed ${SEED}, ${encoded} user records, ${refusedByEncoding} refused by the schema`);
  });

  test('values of every shipped schema with hostile fields: the same bytes or the same error', () => {
    const rnd = mulberry32(SEED ^ 0x9e3779b9);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const files = readdirSync(join(__dirname, '../../../schemas/avro')).filter((f) => f.endsWith('.avsc'));
    expect(files.length).toBeGreaterThan(4);
    let refused = 0;
    let unchecked = 0;
    for (const file of files) {
      const type = avroType(JSON.parse(readSchemaFile(`avro/${file}`)) as avro.Schema);
      const fields = type instanceof avro.types.RecordType ? type.fields : [];
      for (let i = 0; i < 1500; i++) {
        let value: unknown;
        if (i % 100 === 99) value = pick([null, undefined, 42, 'x', [], true, Buffer.alloc(2)]);
        else {
          const record: Record<string, unknown> = {};
          for (const f of fields) record[f.name] = fitting(f.type, rnd);
          for (let n = Math.floor(rnd() * 3); n > 0 && fields.length; n--) {
            const f = pick(fields);
            const r = rnd();
            if (r < 0.1) delete record[f.name];
            else if (r < 0.2 && f.type instanceof avro.types.UnwrappedUnionType) {
              // a map branch with one bad value among good ones
              record[f.name] = { ok: true, bad: pick(HOSTILE), also: false };
            } else record[f.name] = pick(HOSTILE);
          }
          if (rnd() < 0.1) record.notInTheSchema = pick(HOSTILE);
          value = record;
        }
        const id = rnd() < 0.02 ? -1 : Math.floor(rnd() * 0x7fffffff);
        const spy = jest.spyOn(avro.Type.prototype, 'isValid');
        const got = outcome(() => encodeFramed(type, id, value));
        if (spy.mock.calls.length === 0) unchecked++;
        spy.mockRestore();
        const want = outcome(() => encodeFramedChecked(type, id, value));
        expect({ file, i, got }).toEqual({ file, i, got: want });
        if ('error' in want) refused++;
      }
    }
    expect(refused).toBeGreaterThan(1000);
    expect(unchecked).toBeGreaterThan(1000);
  });
});
