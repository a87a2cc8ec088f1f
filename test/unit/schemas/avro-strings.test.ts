import avro from 'avsc';
import { ownStringWrite, useAvscStringWriter, useOwnStringWriter } from '../../../schemas/avro-strings';
import { encodeFramed } from '../../../schemas/wire';
import { mulberry32 } from '../../../simulator/prng';

/**
 * The short-string writer (schemas/avro-strings.ts) must write exactly avsc's bytes: random records of
 * string, nullable string, map and array fields, with strings of every length around the fast path's
 * bound (21 / 22 UTF-16 units), ASCII, 2- and 3-byte characters, surrogate pairs, lone surrogates (high
 * and low, last or not: avsc writes their code unit as 3 bytes in a short string), NUL; encoded into
 * buffers of every size around the end (avsc then returns minus the bytes missing), at random offsets.
 * avsc's own writer is the oracle. Seeded: STRINGS_SEED=n replays.
 */
const writerAtLoad = (avro.types.StringType.prototype as unknown as { _write: unknown })._write;
const SEED = Number(process.env.STRINGS_SEED ?? Math.floor(Math.random() * 2 ** 31));

const type = avro.Type.forSchema({
  type: 'record',
  name: 'T',
  fields: [
    { name: 'a', type: 'string' },
    { name: 'b', type: ['null', 'string'] },
    { name: 'c', type: { type: 'map', values: 'string' } },
    { name: 'd', type: { type: 'array', items: ['null', 'string'] } },
    { name: 'e', type: 'long' },
    { name: 'f', type: ['null', 'string'] },
  ],
});

const PIECES = [
  'a',
  'Z',
  '0',
  ' ',
  '\u0000',
  '\u007f',
  '\u0080',
  'é',
  '\u07ff',
  '\u0800',
  '中',
  '\uffff',
  '😀', // a surrogate pair
  '\ud83d', // lone high
  '\ude00', // lone low
];

function randomString(rnd: () => number): string {
  const int = (n: number) => Math.floor(rnd() * n);
  const units = [0, 1, 20, 21, 22, 23, 40, 63, 64, 65, 100][int(11)] + int(3) - 1;
  let s = '';
  while (s.length < units) s += rnd() < 0.6 ? String.fromCharCode(97 + int(26)) : PIECES[int(PIECES.length)];
  return s.slice(0, Math.max(0, units)); // may cut a pair: a lone high surrogate at the end
}

function value(rnd: () => number): Record<string, unknown> {
  const s = () => randomString(rnd);
  const map: Record<string, string> = {};
  for (let i = Math.floor(rnd() * 3); i > 0; i--) map[s()] = s();
  return {
    a: s(),
    b: rnd() < 0.3 ? null : s(),
    c: map,
    d: Array.from({ length: Math.floor(rnd() * 4) }, () => (rnd() < 0.2 ? null : s())),
    e: Math.floor(rnd() * 1e6),
    f: rnd() < 0.5 ? null : s(),
  };
}

/** encode with one writer: the bytes (or the negative count) and what avsc left in the whole buffer */
function encode(v: unknown, size: number, offset: number, own: boolean): { end: number; bytes: Buffer } {
  if (own) useOwnStringWriter();
  else useAvscStringWriter();
  try {
    const buf = Buffer.alloc(size, 0xaa);
    const end = type.encode(v, buf, offset);
    return { end, bytes: end > 0 ? buf.subarray(offset, end) : Buffer.alloc(0) };
  } finally {
    useOwnStringWriter();
  }
}

afterAll(() => useOwnStringWriter());

test(`avsc's bytes for every string, whatever the room left (STRINGS_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  for (let i = 0; i < 3000; i++) {
    const v = value(rnd);
    const full = encode(v, 4096, 0, false);
    expect(full.end).toBeGreaterThan(0);
    const offset = Math.floor(rnd() * 8);
    // the exact size, and every size that cuts it within its last 40 bytes, and a few far off
    const sizes = [
      offset + full.end,
      offset + full.end + 1,
      ...Array.from({ length: 6 }, () => offset + Math.floor(rnd() * full.end)),
    ];
    for (let k = 1; k <= Math.min(40, full.end); k++) sizes.push(offset + full.end - k);
    for (const size of sizes) {
      const theirs = encode(v, size, offset, false);
      const ours = encode(v, size, offset, true);
      expect(ours.end).toBe(theirs.end);
      expect(ours.bytes.equals(theirs.bytes)).toBe(true);
    }
  }
});

test('a string field that holds no string is refused as avsc refuses it', () => {
  useOwnStringWriter();
  for (const bad of [undefined, 1, {}, Buffer.from('x'), ['a']]) {
    expect(() => type.encode({ a: bad, b: null, c: {}, d: [], e: 1, f: null }, Buffer.alloc(100))).toThrow(
      /invalid "string"/,
    );
    expect(() => encodeFramed(type, 1, { a: bad, b: null, c: {}, d: [], e: 1, f: null })).toThrow(/invalid at a/);
  }
});

test('the writer is in place once encodeFramed is loaded', () => {
  // schemas/wire.ts installs it (the connector's encoders all go through encodeFramed)
  expect(writerAtLoad).toBe(ownStringWrite);
});
