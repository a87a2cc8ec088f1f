import avro from 'avsc';
import type { AvroSchemaJson } from '../../../schemas/avro';
import { frame } from '../../../schemas/wire';
import { mulberry32 } from '../../../simulator/prng';
import type { WriterSchema } from '../../../sinks/port';
import { CopyBytes, OK, rowReader } from '../../../sinks/postgres/avro-copy';
import { lineEncoder } from '../../../sinks/postgres/statements';
import { SinkTable } from '../../../sinks/postgres/table';

/**
 * A map of booleans is written as JSON straight from its bytes where its keys are plain
 * (avro-copy.ts plainMap), else through the object avsc reads: the COPY text is the one encoded
 * from avsc's value either way. Hand-built maps: repeated keys, keys like array indexes, __proto__,
 * escapes, non-ASCII, empty keys, several blocks, negative block counts with sizes, many entries.
 * Randomised: MAP_JSON_SEED=<n> replays a run.
 */
const seed = Number(process.env.MAP_JSON_SEED ?? Math.floor(Math.random() * 2 ** 31));

const SCHEMA = {
  type: 'record',
  name: 'Maps',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'm1', type: ['null', { type: 'map', values: 'boolean' }], default: null },
    { name: 'm2', type: { type: 'map', values: 'boolean' } },
  ],
} as unknown as AvroSchemaJson;

const KEYS = [
  'A',
  'ViewSetup',
  'ApiEnabled',
  '10',
  '2',
  '02',
  '__proto__',
  '_abcdefgh',
  'a"b',
  'x\\y',
  'a\tb',
  'é',
  '',
  ' ',
  '~',
  'constructor',
  'toString',
];

function varint(n: number): number[] {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  do {
    const b = z & 0x7f;
    z = Math.floor(z / 128);
    out.push(z > 0 ? b | 0x80 : b);
  } while (z > 0);
  return out;
}

describe(`maps of booleans as JSON from their bytes = from avsc's object (MAP_JSON_SEED=${seed})`, () => {
  it('the same COPY text for plain and odd keys, repeated keys, blocks', () => {
    const rnd = mulberry32(seed);
    const type = avro.Type.forSchema(SCHEMA as avro.Schema);
    const table = new SinkTable({ schema: 'public', name: 't' });
    table.absorb(SCHEMA);
    const writer: WriterSchema = { id: 9, json: SCHEMA, type, fields: new Set(['id', 'm1', 'm2']) };
    const read = rowReader(table, writer, 'direct')!;
    expect(read).toBeDefined();
    const encode = lineEncoder(table, writer, 'direct');
    const map = (): number[] => {
      const bytes: number[] = [];
      for (let blocks = Math.floor(rnd() * 3); blocks > 0; blocks--) {
        const entries: number[] = [];
        const count = rnd() < 0.05 ? 600 + Math.floor(rnd() * 100) : 1 + Math.floor(rnd() * 6);
        for (let i = 0; i < count; i++) {
          const key =
            rnd() < 0.9 ? `K${Math.floor(rnd() * (count > 100 ? 10_000 : 8))}` : KEYS[Math.floor(rnd() * KEYS.length)];
          const k = Buffer.from(key);
          entries.push(...varint(k.length), ...k, rnd() < 0.5 ? 1 : 0);
        }
        if (rnd() < 0.3) bytes.push(...varint(-count), ...varint(entries.length), ...entries);
        else bytes.push(...varint(count), ...entries);
      }
      bytes.push(0);
      return bytes;
    };
    let direct = 0;
    for (let i = 0; i < 500; i++) {
      const bytes = [...varint(3), 0x30, 0x30, 0x31];
      if (rnd() < 0.2) bytes.push(0);
      else bytes.push(2, ...map());
      bytes.push(...map());
      const body = Buffer.from(bytes);
      const value = type.fromBuffer(body) as Record<string, unknown>;
      const framed = frame(9, body);
      const out = new CopyBytes(64);
      expect(read(framed, '001', 0, String(i), out)).toBe(OK);
      const want = encode({
        kind: 'upsert',
        key: '001',
        value,
        writer,
        source: { topic: 't', partition: 0, offset: String(i), key: null, value: framed },
      });
      expect({ i, text: out.buf.toString('latin1', 0, out.n) }).toEqual({
        i,
        text: Buffer.from(want!).toString('latin1'),
      });
      if (!/[é"\\]/.test(want!)) direct++;
    }
    expect(direct).toBeGreaterThan(20);
  });
});
