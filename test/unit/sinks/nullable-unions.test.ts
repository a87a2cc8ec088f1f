import avro from 'avsc';
import type { AvroSchemaJson } from '../../../schemas/avro';
import { frame } from '../../../schemas/wire';
import { mulberry32 } from '../../../simulator/prng';
import { compileCheck } from '../../../schemas/avro-check';
import type { WriterSchema } from '../../../sinks/port';
import { CopyBytes, OK, rowReader } from '../../../sinks/postgres/avro-copy';
import { lineEncoder } from '../../../sinks/postgres/statements';
import { SinkTable } from '../../../sinks/postgres/table';

/**
 * ["null", X] unions are read in place where their branch index is the one byte avsc writes
 * (avro-check.ts, avro-copy.ts); every other form of the index (a longer varint of the same
 * index, another index, bytes missing) must still get avsc's verdict (the checker) and avsc's
 * values (the COPY reader, or its fallback). Bodies built field by field from random forms.
 * Randomised: NULLABLE_UNIONS_SEED=<n> replays a run.
 */
const seed = Number(process.env.NULLABLE_UNIONS_SEED ?? Math.floor(Math.random() * 2 ** 31));

const SCHEMA = {
  type: 'record',
  name: 'Nullables',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'b1', type: ['null', 'boolean'], default: null },
    { name: 'b2', type: ['boolean', 'null'], default: true },
    { name: 's1', type: ['null', 'string'], default: null },
    { name: 's2', type: ['string', 'null'], default: '' },
    { name: 'd', type: ['null', 'double'], default: null },
    { name: 't', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
    { name: 'b3', type: ['null', 'boolean'], default: null }, // last: nothing after it reads past the end
  ],
} as unknown as AvroSchemaJson;

/** A zigzag varint of n, padded to `width` bytes (continuation bits on zero groups: the same value). */
function varint(n: number, width = 1): number[] {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  do {
    out.push(z & 0x7f);
    z = Math.floor(z / 128);
  } while (z > 0);
  while (out.length < width) out.push(0);
  return out.map((b, i) => (i < out.length - 1 ? b | 0x80 : b));
}

describe(`["null", X] unions read in place = avsc (NULLABLE_UNIONS_SEED=${seed})`, () => {
  it('every form of the branch index: the verdict and the COPY text (both targets) are those of avsc', () => {
    const rnd = mulberry32(seed);
    const type = avro.Type.forSchema(SCHEMA as avro.Schema);
    const check = compileCheck(type)!;
    const table = new SinkTable({ schema: 'public', name: 't' });
    table.absorb(SCHEMA);
    const writer: WriterSchema = {
      id: 7,
      json: SCHEMA,
      type,
      fields: new Set((SCHEMA as unknown as { fields: { name: string }[] }).fields.map((f) => f.name)),
    };
    const targets = (['stage', 'direct'] as const).map((target) => ({
      read: rowReader(table, writer, target)!,
      encode: lineEncoder(table, writer, target),
    }));
    for (const t of targets) expect(t.read).toBeDefined();
    const fields = (SCHEMA as unknown as { fields: { name: string; type: unknown[] }[] }).fields.slice(1);
    const valueBytes = (t: unknown): number[] => {
      const name = typeof t === 'string' ? t : (t as { type: string }).type;
      if (name === 'boolean') return [Math.floor(rnd() * 3)]; // 0, 1, and 2 (avsc reads any non-zero as true)
      if (name === 'string') return [...varint(2), 0x61, 0x09];
      if (name === 'double') return [...Buffer.from(new Float64Array([rnd() * 100 - 50]).buffer)];
      return varint(1_700_000_000_000 + Math.floor(rnd() * 1e6));
    };
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 4000; i++) {
      const bytes: number[] = [...varint(3), 0x30, 0x30, 0x31];
      for (const f of fields) {
        const nullAt = f.type.indexOf('null');
        const form = Math.floor(rnd() * 8);
        if (form === 0) bytes.push(...varint(nullAt));
        else if (form === 1) bytes.push(...varint(nullAt, 2 + Math.floor(rnd() * 2)));
        else if (form === 2)
          bytes.push(...varint(1 - nullAt, 2 + Math.floor(rnd() * 2)), ...valueBytes(f.type[1 - nullAt]));
        else if (form === 3)
          bytes.push(...varint(rnd() < 0.5 ? 2 : -1)); // no such branch
        else if (form === 4)
          bytes.push(Math.floor(rnd() * 256)); // any byte
        else bytes.push(...varint(1 - nullAt), ...valueBytes(f.type[1 - nullAt]));
      }
      let body = Buffer.from(bytes);
      const cut = rnd();
      if (cut < 0.1) body = body.subarray(0, Math.floor(rnd() * body.length));
      else if (cut < 0.2) body = body.subarray(0, body.length - 1); // the last value's byte missing
      let want: Record<string, unknown> | undefined;
      try {
        want = type.fromBuffer(body) as Record<string, unknown>;
      } catch {
        want = undefined;
      }
      let verdict = true;
      try {
        check(body);
      } catch {
        verdict = false;
      }
      expect({ i, verdict }).toEqual({ i, verdict: want !== undefined });
      if (!want) {
        refused++;
        continue;
      }
      accepted++;
      const out = new CopyBytes(64);
      const framed = frame(7, body);
      const op = {
        kind: 'upsert' as const,
        key: '001',
        value: want,
        writer,
        source: { topic: 't', partition: 1, offset: String(i), key: null, value: framed },
      };
      for (const [target, { read, encode }] of targets.entries()) {
        out.n = 0;
        if (read(framed, '001', 1, String(i), out) === OK)
          expect({ i, target, text: out.buf.toString('latin1', 0, out.n) }).toEqual({
            i,
            target,
            text: Buffer.from(encode(op)!).toString('latin1'),
          });
      }
    }
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});
