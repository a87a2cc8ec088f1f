import avro from 'avsc';
import { loadConnectorSchemas, type AvroSchemaJson } from '../../../schemas/avro';
import { mulberry32 } from '../../../simulator/prng';
import { compileCheck } from '../../../schemas/avro-check';

/**
 * The byte checker (avro-check.ts) refuses exactly the bodies avsc's fromBuffer refuses, and
 * returns the record's id as avsc reads it: random records of the declared schemas and of a
 * schema with every Avro type, as written, truncated, with bytes appended, and (for the schema
 * without maps or arrays, where a flipped count would make avsc loop for ages) with bytes
 * flipped. Randomised: AVRO_CHECK_SEED=<n> replays a run.
 */
const seed = Number(process.env.AVRO_CHECK_SEED ?? Math.floor(Math.random() * 2 ** 31));

const EVERY: AvroSchemaJson = {
  type: 'record',
  name: 'Every',
  fields: [
    { name: 'n', type: 'null' },
    { name: 'b', type: 'boolean' },
    { name: 'i', type: 'int' },
    { name: 'l', type: 'long' },
    { name: 'f', type: 'float' },
    { name: 'd', type: 'double' },
    { name: 'by', type: 'bytes' },
    { name: 'id', type: ['null', 'string'] },
    { name: 'e', type: { type: 'enum', name: 'E', symbols: ['x', 'y', 'z'] } },
    { name: 'fx', type: { type: 'fixed', name: 'F', size: 3 } },
    { name: 'u', type: ['null', 'int', 'E'] },
    {
      name: 'r',
      type: {
        type: 'record',
        name: 'Inner',
        fields: [
          { name: 's', type: 'string' },
          { name: 'o', type: ['null', 'long'] },
        ],
      },
    },
  ],
};
const COLLECTIONS: AvroSchemaJson = {
  type: 'record',
  name: 'Collections',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'a', type: { type: 'array', items: ['null', 'string'] } },
    { name: 'm', type: { type: 'map', values: { type: 'array', items: 'long' } } },
  ],
};

/** Unions avsc wraps (int and long; two records), walked like any union since session 19. */
const WRAPPED: AvroSchemaJson = {
  type: 'record',
  name: 'Wrapped',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'n', type: ['null', 'int', 'long'] },
    {
      name: 'r',
      type: [
        { type: 'record', name: 'A', fields: [{ name: 'a', type: 'string' }] },
        {
          type: 'record',
          name: 'B',
          fields: [
            { name: 'b', type: 'long' },
            { name: 'c', type: 'boolean' },
          ],
        },
      ],
    },
  ],
};

/** A logical type over int (days), as a registry client built with logicalTypes would have. */
class DateType extends avro.types.LogicalType {
  override _fromValue(days: number): Date {
    return new Date(days * 86_400_000);
  }
  override _toValue(date: Date): number {
    return Math.floor(date.getTime() / 86_400_000);
  }
  override _resolve(type: avro.Type) {
    return avro.Type.isType(type, 'int') ? (x: number) => x : undefined;
  }
}

function outcome(f: () => unknown): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: f() };
  } catch {
    return { ok: false };
  }
}

describe(`Avro body checker = avsc fromBuffer's verdict (AVRO_CHECK_SEED=${seed})`, () => {
  const schemas = loadConnectorSchemas();
  for (const [name, schema, flips] of [
    ['users', schemas.userValue, false],
    ['login events', schemas.loginEventValue, false],
    ['every type', EVERY, true],
    ['arrays and maps', COLLECTIONS, false],
    ['wrapped unions', WRAPPED, true],
  ] as const) {
    it(`${name}: same verdict and id on written, truncated, extended${flips ? ', flipped' : ''} bodies`, () => {
      const rnd = mulberry32(seed + name.length);
      const type = avro.Type.forSchema(schema);
      const check = compileCheck(type);
      expect(check).toBeDefined();
      let refused = 0;
      for (let i = 0; i < (flips ? 3000 : 300); i++) {
        const record: unknown = type.random();
        let body = type.toBuffer(record);
        const how = Math.floor(rnd() * (flips ? 4 : 3));
        if (how === 1) body = body.subarray(0, Math.floor(rnd() * body.length));
        if (how === 2) body = Buffer.concat([body, Buffer.from([Math.floor(rnd() * 256)])]);
        if (how === 3) {
          body = Buffer.from(body);
          for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--)
            body[Math.floor(rnd() * body.length)] = Math.floor(rnd() * 256);
        }
        const want = outcome(() => (type.fromBuffer(body) as Record<string, unknown>).id);
        const got = outcome(() => check!(body));
        if (!want.ok) refused++;
        const id = want.ok && typeof want.value === 'string' ? want.value : undefined;
        expect({ i, how, got }).toEqual({ i, how, got: want.ok ? { ok: true, value: id } : { ok: false } });
      }
      expect(refused).toBeGreaterThan(0);
    });
  }

  it('longs at and beyond 2^53 are refused as avsc refuses them (precision loss)', () => {
    const type = avro.Type.forSchema({ type: 'record', name: 'L', fields: [{ name: 'l', type: 'long' }] });
    const check = compileCheck(type)!;
    const varint = (n: bigint) => {
      let z = n >= 0n ? n * 2n : -n * 2n - 1n;
      const out: number[] = [];
      do {
        const b = Number(z & 0x7fn);
        z >>= 7n;
        out.push(z > 0n ? b | 0x80 : b);
      } while (z > 0n);
      return Buffer.from(out);
    };
    for (const n of [0n, 2n ** 53n - 2n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 62n, -(2n ** 53n) + 2n, -(2n ** 53n)]) {
      const body = varint(n);
      expect({ n, got: outcome(() => check(body)).ok }).toEqual({ n, got: outcome(() => type.fromBuffer(body)).ok });
    }
  });

  it('overlong varints (NaN lengths and counts) get the verdict avsc gives them', () => {
    const overlong = Buffer.concat([Buffer.alloc(150, 0x80), Buffer.from([0x01])]);
    for (const schema of [
      { type: 'record', name: 'S', fields: [{ name: 's', type: 'string' }] },
      { type: 'record', name: 'L', fields: [{ name: 'l', type: 'long' }] },
      { type: 'record', name: 'M', fields: [{ name: 'm', type: { type: 'map', values: 'int' } }] },
      {
        type: 'record',
        name: 'A',
        fields: [
          { name: 'a', type: { type: 'array', items: 'int' } },
          { name: 'b', type: 'int' },
        ],
      },
    ] as AvroSchemaJson[]) {
      const type = avro.Type.forSchema(schema);
      const check = compileCheck(type)!;
      for (const body of [
        overlong,
        Buffer.concat([overlong, Buffer.from([0x02])]),
        Buffer.concat([overlong, overlong]),
      ]) {
        const name = (schema as { name: string }).name;
        expect({ name, body: body.length, got: outcome(() => check(body)).ok }).toEqual({
          name,
          body: body.length,
          got: outcome(() => type.fromBuffer(body)).ok,
        });
      }
    }
  });

  it('a schema with a logical type gets a checker (the underlying type is walked)', () => {
    const logical = avro.Type.forSchema(
      { type: 'record', name: 'T', fields: [{ name: 't', type: { type: 'int', logicalType: 'date' } }] },
      { logicalTypes: { date: DateType } },
    );
    const check = compileCheck(logical)!;
    for (const body of [Buffer.from([0x02]), Buffer.from([0x82]), Buffer.from([0x02, 0x00])])
      expect({ body: body.toString('hex'), got: outcome(() => check(body)).ok }).toEqual({
        body: body.toString('hex'),
        got: outcome(() => logical.fromBuffer(body)).ok,
      });
  });
});
