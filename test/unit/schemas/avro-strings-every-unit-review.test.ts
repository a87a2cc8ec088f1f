/**
 * Review pin (s10-rev-cpu, passes): schemas/avro-strings.ts replaces avsc's StringType._write for the
 * whole process. Every UTF-16 code unit 0..0xFFFF, alone, after/before ASCII padding up to the 22-unit
 * bound, doubled (pairs, lone surrogates), in a string field, a union branch, map key and value, array
 * items and a logical type over string, into buffers of random size (avsc's negative end) and through
 * toBuffer (avsc's resize-and-retry): the same bytes as avsc's own writer; decoding gives the string back.
 * AVD_SEED=n replays.
 */
import avro from 'avsc';
import { useAvscStringWriter, useOwnStringWriter } from '../../../schemas/avro-strings';
import '../../../schemas/wire';
import { mulberry32 } from '../../../simulator/prng';
const SEED = Number(process.env.AVD_SEED ?? Math.floor(Math.random() * 2 ** 31));
const type = avro.Type.forSchema({
  type: 'record',
  name: 'R',
  fields: [
    { name: 'a', type: 'string' },
    { name: 'u', type: ['null', 'string', 'long'] },
    { name: 'm', type: { type: 'map', values: 'string' } },
    { name: 'arr', type: { type: 'array', items: 'string' } },
    { name: 'l', type: { type: 'string', logicalType: 'x-unknown' } },
  ],
});
type Decoded = { a: string; m: Record<string, string>; arr: string[] };
function enc(v: unknown, own: boolean, size: number, off: number) {
  if (own) useOwnStringWriter();
  else useAvscStringWriter();
  try {
    const buf = Buffer.alloc(size, 0x5a);
    let end: number;
    try {
      end = type.encode(v, buf, off);
    } catch (e) {
      return 'throw ' + (e as Error).message;
    }
    let tb: string;
    try {
      tb = type.toBuffer(v).toString('hex');
    } catch {
      tb = 'throw';
    }
    return `${end} ${buf.subarray(off, Math.max(off, end)).toString('hex')} ${tb}`;
  } finally {
    useOwnStringWriter();
  }
}
test(`every code unit, alone and in context (AVD_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  let bad = 0;
  for (let c = 0; c < 0x10000; c++) {
    const ch = String.fromCharCode(c);
    const pad = 'x'.repeat(int(21));
    const s = [ch, pad + ch, ch + pad, ch + ch, pad.slice(0, 19) + ch + String.fromCharCode(int(0x10000))][int(5)];
    const v = { a: s, u: rnd() < 0.5 ? s : null, m: { [s]: s }, arr: [s, ch], l: s };
    const size = 1 + int(200);
    const off = int(4);
    for (const sz of [size, 400]) {
      const x = enc(v, false, sz, off),
        y = enc(v, true, sz, off);
      if (x !== y) {
        if (bad++ < 5) console.log(c.toString(16), JSON.stringify(s), sz, off, '\n', x, '\n', y);
      }
    }
    // decode
    const buf = type.toBuffer(v);
    const back = type.fromBuffer(buf) as Decoded;
    useAvscStringWriter();
    const back2 = type.fromBuffer(type.toBuffer(v)) as Decoded;
    useOwnStringWriter();
    if (back.a !== back2.a) {
      if (bad++ < 5) console.log('decode', c.toString(16));
    }
    const wellFormed = !/[\ud800-\udfff]/.test(s);
    if (wellFormed && (back.a !== s || back.m[s] !== s || back.arr[0] !== s)) {
      if (bad++ < 5) console.log('roundtrip', c.toString(16));
    }
  }
  expect(bad).toBe(0);
});
