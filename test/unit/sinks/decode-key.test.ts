import avro from 'avsc';
import type { AvroSchemaJson } from '../../../schemas/avro';
import { frame } from '../../../schemas/wire';
import { mulberry32 } from '../../../simulator/prng';
import { createDecoder } from '../../../sinks/engine/decode';
import type { SchemaSource } from '../../../sinks/postgres/schema-source';

/**
 * The record key as the decoder reads it (decode.ts: ASCII keys read in place, others by avsc)
 * equals avsc's fromBuffer of the framed key, or both refuse it with the same code: random keys of
 * every length around the one-byte length varint (63/64 bytes), ASCII and not, invalid UTF-8,
 * truncated, extended, with a bad magic byte or a negative length. DECODE_KEY_SEED=<n> replays.
 */
const seed = Number(process.env.DECODE_KEY_SEED ?? Math.floor(Math.random() * 2 ** 31));

const STRING = avro.Type.forSchema('string');
const VALUE = {
  type: 'record',
  name: 'V',
  fields: [{ name: 'n', type: 'long' }],
} as unknown as AvroSchemaJson;

describe(`record key decoding (DECODE_KEY_SEED=${seed})`, () => {
  it('equals avsc on random framed keys', async () => {
    const rnd = mulberry32(seed);
    const decoder = createDecoder({
      byId: (id: number) => Promise.resolve(id === 1 ? ('string' as AvroSchemaJson) : VALUE),
    } as SchemaSource);
    const value = frame(2, avro.Type.forSchema(VALUE as avro.Schema).toBuffer({ n: 1 }));
    await decoder.decode({ key: frame(1, STRING.toBuffer('warm')), value }); // both writers known
    const reference = (key: Buffer): string => {
      try {
        if (key.length === 0) return 'error KEY_MISSING';
        if (key.length < 5 || key[0] !== 0) return 'error WIRE_FORMAT_INVALID';
        return `key ${STRING.fromBuffer(key.subarray(5)) as string}`;
      } catch {
        return 'error RECORD_UNDECODABLE';
      }
    };
    const ours = async (key: Buffer): Promise<string> => {
      try {
        return `key ${(decoder.decodeCached!({ key, value }) ?? (await decoder.decode({ key, value }))).key}`;
      } catch (err) {
        return `error ${(err as { code?: string }).code}`;
      }
    };
    const char = () => {
      const r = rnd();
      if (r < 0.7) return String.fromCharCode(32 + Math.floor(rnd() * 95));
      if (r < 0.8) return String.fromCharCode(Math.floor(rnd() * 32)); // controls, NUL
      if (r < 0.9) return String.fromCharCode(128 + Math.floor(rnd() * 1900));
      return String.fromCodePoint(0x1f600 + Math.floor(rnd() * 50));
    };
    let checked = 0;
    for (let i = 0; i < 20_000; i++) {
      const ascii = rnd() < 0.7;
      const len = rnd() < 0.5 ? 60 + Math.floor(rnd() * 8) : Math.floor(rnd() * 130);
      let s = '';
      for (let j = 0; j < len; j++) s += ascii ? String.fromCharCode(32 + Math.floor(rnd() * 95)) : char();
      let key = frame(1, STRING.toBuffer(s));
      const damage = rnd();
      if (damage < 0.05) key = key.subarray(0, Math.floor(rnd() * key.length));
      else if (damage < 0.1) key = Buffer.concat([key, Buffer.from([Math.floor(rnd() * 256)])]);
      else if (damage < 0.13) key[0] = 1;
      else if (damage < 0.16 && key.length > 5)
        key[5] |= 1; // negative length
      // invalid UTF-8
      else if (damage < 0.2 && key.length > 6) key[6 + Math.floor(rnd() * (key.length - 6))] = 0x80 | (rnd() * 128);
      const want = reference(key);
      expect({ i, key: key.toString('hex'), got: await ours(key) }).toEqual({ i, key: key.toString('hex'), got: want });
      checked++;
    }
    expect(checked).toBe(20_000);
  });
});
