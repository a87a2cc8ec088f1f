import avro from 'avsc';
import { RecordError } from '../../../kernel/errors';
import type { AvroSchemaJson } from '../../../schemas/avro';
import { frame } from '../../../schemas/wire';
import { mulberry32 } from '../../../simulator/prng';
import { createDecoder } from '../../../sinks/engine/decode';
import type { SchemaSource } from '../../../sinks/postgres/schema-source';

/**
 * Review of the checked (not decoded) path (decode.ts + avro-check.ts) against the decoder it
 * replaced, whose verdict is the reference: avsc's fromBuffer, then a KEY_MISMATCH when the
 * decoded `id` is a string that differs from the key. A record the old path dead-lettered must
 * still be dead-lettered at decode time (not land, not throw later when `value` is read).
 * Randomised where it fits: DECODE_REVIEW_SEED=<n> replays a run.
 */
const seed = Number(process.env.DECODE_REVIEW_SEED ?? Math.floor(Math.random() * 2 ** 31));

const KEY: AvroSchemaJson = 'string' as AvroSchemaJson;

function decoderOf(schemas: Record<number, AvroSchemaJson>) {
  const source: SchemaSource = {
    byId: (id: number) => Promise.resolve(schemas[id]),
  } as SchemaSource;
  return createDecoder(source);
}

/** The old decoder's verdict (7b97a5b decode.ts): undefined when the record lands. */
function reference(type: avro.Type, key: string, body: Buffer): string | undefined {
  let value: Record<string, unknown>;
  try {
    value = type.fromBuffer(body) as Record<string, unknown>;
  } catch {
    return 'RECORD_UNDECODABLE';
  }
  return typeof value.id === 'string' && value.id !== key ? 'KEY_MISMATCH' : undefined;
}

async function verdict(decoder: ReturnType<typeof decoderOf>, key: Buffer, value: Buffer) {
  try {
    await decoder.decode({ key, value });
    return undefined;
  } catch (err) {
    return err instanceof RecordError ? err.code : `not a RecordError: ${(err as Error).message}`;
  }
}

describe(`decoder verdicts = the old decoder's (DECODE_REVIEW_SEED=${seed})`, () => {
  it('an id the old decoder compared with the key (an enum symbol decodes to a string) is still compared', async () => {
    const rnd = mulberry32(seed);
    const symbols = ['A', 'B', 'C', 'D'];
    const schemas: Record<number, AvroSchemaJson> = {
      1: KEY,
      2: {
        type: 'record',
        name: 'User',
        fields: [
          { name: 'id', type: { type: 'enum', name: 'Ids', symbols } },
          { name: 'name', type: ['null', 'string'], default: null },
        ],
      } as AvroSchemaJson,
      3: {
        type: 'record',
        name: 'User',
        fields: [
          { name: 'name', type: ['null', 'string'], default: null },
          { name: 'id', type: ['null', { type: 'enum', name: 'Ids', symbols }] },
        ],
      } as AvroSchemaJson,
    };
    const decoder = decoderOf(schemas);
    const keyType = avro.Type.forSchema('string');
    const seen: { got: string | undefined; want: string | undefined; id: string; key: string; schema: number }[] = [];
    for (let i = 0; i < 40; i++) {
      const schema = rnd() < 0.5 ? 2 : 3;
      const type = avro.Type.forSchema(schemas[schema] as avro.Schema);
      const id = symbols[Math.floor(rnd() * symbols.length)];
      const key = rnd() < 0.5 ? id : symbols[Math.floor(rnd() * symbols.length)];
      const body = type.toBuffer({ id, name: rnd() < 0.5 ? null : 'x' });
      const want = reference(type, key, body);
      const got = await verdict(decoder, frame(1, keyType.toBuffer(key)), frame(schema, body));
      seen.push({ got, want, id, key, schema });
    }
    expect(seen.filter((s) => s.got !== s.want)).toEqual([]);
  });

  it('an array of zero-width items (null) with a count avsc cannot hold (2^32) is refused at decode', async () => {
    const schema = {
      type: 'record',
      name: 'User',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'flags', type: { type: 'array', items: 'null' } },
      ],
    } as AvroSchemaJson;
    const type = avro.Type.forSchema(schema as avro.Schema);
    const decoder = decoderOf({ 1: KEY, 2: schema });
    // id "x", then one block of 2^32 nulls (no bytes each), then the end of the array.
    const body = Buffer.concat([
      Buffer.from([2, 0x78]),
      avro.Type.forSchema('long').toBuffer(2 ** 32),
      Buffer.from([0]),
    ]);
    expect(reference(type, 'x', body)).toBe('RECORD_UNDECODABLE'); // avsc: RangeError "Invalid array length"
    const key = frame(1, avro.Type.forSchema('string').toBuffer('x'));
    let landed: unknown;
    const got = await decoder.decode({ key, value: frame(2, body) }).then(
      (d) => {
        // it landed: reading the record (memory store, COPY fallback) throws only now, at write time
        try {
          landed = d.value;
        } catch (err) {
          landed = `value getter threw at write time: ${(err as Error).message}`;
        }
        return 'landed';
      },
      (err: RecordError) => err.code,
    );
    expect({ got, landed }).toEqual({ got: 'RECORD_UNDECODABLE', landed: undefined });
  }, 120_000);
});
