/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's protocol modules have no types */
import { decodeRecord, kafkajsRecordDecoder } from '../../../kafka/fetch-records';
import { mulberry32 } from '../../../simulator/prng';
import { varNum } from '../../support/kafka-varint';

/**
 * kafka/fetch-records.ts builds a record's headers when they are first read (session 24: the sink
 * reads none on its way to the table). For random records with random headers, decoded one after
 * another and kept, their headers read later in a random order with other records decoded in
 * between: every record reads as kafkajs's decoder built it at decode time (spread, Object.keys,
 * JSON, each header), the same headers object at every read, and an assignment or a change to it
 * kept. Some records are damaged or unusual (cut, trailing bytes, padded varints, null header keys
 * and values, a count of -1): refused with kafkajs's error where kafkajs refuses them.
 * FETCH_RECORDS_LAZY_SEED=n replays.
 */
const SEED = Number(process.env.FETCH_RECORDS_LAZY_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Decoder = { buffer: Buffer; offset: number };
const KafkajsDecoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => Decoder;
type Rec = Record<string, unknown> & { headers: Record<string, unknown> };

const decodeWith = (decode: typeof decodeRecord, bytes: Buffer, ctx: object) =>
  decode(new KafkajsDecoder(bytes), ctx) as Rec;
const outcome = (decode: typeof decodeRecord, bytes: Buffer, ctx: object): Rec | string => {
  try {
    return decodeWith(decode, bytes, ctx);
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
};

it(`reads every record's headers, whenever read, as kafkajs built them (FETCH_RECORDS_LAZY_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (k: number) => Math.floor(rnd() * k);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const pad = () => (rnd() < 0.1 ? 1 + int(3) : 0); // a longer encoding of the same number
  const field = (b: Buffer | null): number[] =>
    b === null ? varNum(-1n, pad()) : [...varNum(BigInt(b.length), pad()), ...b];
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const KEYS = ['run-id', 'connector', 'org', 'content-hash', 'device', '__proto__', 'toString', 'ü', '', 'x'];

  let damaged = 0;
  const record = (): Buffer => {
    const parts: number[] = [0, ...varNum(BigInt(int(1000))), ...varNum(BigInt(int(500)))];
    parts.push(...field(randomBytes(18)), ...field(rnd() < 0.1 ? null : randomBytes(int(300))));
    const count = pick([0, 1, 6, 6, int(9), -1]);
    parts.push(...varNum(BigInt(count), pad()));
    for (let h = 0; h < count; h++) {
      const key = rnd() < 0.7 ? KEYS[h % 5] : pick(KEYS); // a topic's records repeat their keys by position
      parts.push(...field(rnd() < 0.05 ? null : Buffer.from(key)), ...field(rnd() < 0.1 ? null : randomBytes(int(40))));
    }
    const out = Buffer.from(parts);
    // (no byte changed at random: a header count made huge sends kafkajs's decoder, the oracle, into
    // millions of empty headers; fetch-records-s16.test.ts covers such bytes, skipping those counts)
    const damage = int(15);
    if (damage < 2) damaged++;
    if (damage === 0) return out.subarray(0, int(out.length)); // cut
    if (damage === 1) return Buffer.concat([out, randomBytes(1 + int(4))]); // trailing bytes
    return out;
  };

  const kept: { ours: Rec; theirs: Rec }[] = [];
  let checked = 0;
  const check = (i: number) => {
    const { ours, theirs } = kept[i];
    const at = `record ${i}`;
    expect({ at, keys: Object.keys(ours) }).toEqual({ at, keys: Object.keys(theirs) });
    expect({ at, ...ours }).toEqual({ at, ...theirs });
    expect({ at, json: JSON.stringify(ours) }).toEqual({ at, json: JSON.stringify(theirs) });
    expect(ours.headers).toBe(ours.headers);
    expect(Object.getPrototypeOf(ours.headers)).toBe(Object.getPrototypeOf(theirs.headers));
    checked++;
  };
  for (let i = 0; i < 3000; i++) {
    const ctx = { firstOffset: String(int(10 ** 6)), firstTimestamp: '1700000000000', magicByte: 2 };
    const bytes = record();
    const ours = outcome(decodeRecord, bytes, ctx);
    const theirs = outcome(kafkajsRecordDecoder, bytes, ctx);
    if (typeof theirs === 'string' || typeof ours === 'string') {
      expect({ i, ours: typeof ours === 'string' ? ours : 'a record' }).toEqual({ i, ours: theirs });
      continue;
    }
    kept.push({ ours, theirs });
    // now and then, some earlier record's headers read for the first time (or again)
    if (rnd() < 0.3) check(int(kept.length));
  }
  for (const i of kept.map((_, i) => i).sort(() => rnd() - 0.5)) check(i);
  expect(checked).toBeGreaterThan(2500);
  expect(damaged).toBeGreaterThan(200); // the generator's own check: damaged records occur

  // a reader may change the headers object, or put another in its place: kept, as on kafkajs's record
  const { ours } = kept[int(kept.length)];
  ours.headers.added = Buffer.from('a');
  expect(ours.headers.added).toEqual(Buffer.from('a'));
  const other = { replaced: Buffer.from('r') };
  ours.headers = other;
  expect(ours.headers).toBe(other);
  expect({ ...ours }.headers).toBe(other);
  // an assignment before the first read wins too (nothing built over it)
  const decodable = (): Rec => {
    for (;;) {
      const r = outcome(decodeRecord, record(), { firstOffset: '0', firstTimestamp: '0' });
      if (typeof r !== 'string') return r;
    }
  };
  const fresh = decodable();
  fresh.headers = other;
  expect(fresh.headers).toBe(other);
  const cleared = decodable();
  (cleared as Record<string, unknown>).headers = undefined;
  expect(cleared.headers).toBeUndefined();
});
