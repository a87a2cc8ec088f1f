import { shapeBuilder } from '../../../kernel/fixed-shape';
import { mulberry32 } from '../../../simulator/prng';

/**
 * shapeBuilder(keys)(values) must give what assigning `o[keys[i]] = values[i]` to `{}` gives (own
 * keys, order, values), for any key list, in any order of use: key lists are drawn at random from
 * characters that are code or separators elsewhere (quotes, backslashes, NUL, line separators,
 * `__proto__`, integer-like names). FIXED_SHAPE_SEED=<n> replays.
 */
const SEED = Number(process.env.FIXED_SHAPE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PARTS = ['a', 'b', '\u0000', '"', "'", '\\', '\u2028', '}); globalThis.pwned = 1; ({', '__proto__', '1', '0', ''];

function assigned(keys: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  keys.forEach((k, i) => (o[k] = values[i]));
  return o;
}

describe(`shapeBuilder (FIXED_SHAPE_SEED=${SEED})`, () => {
  it('gives the keys, order and values of assignment to {}, whatever key lists came before', () => {
    const rnd = mulberry32(SEED);
    const pick = () => PARTS[Math.floor(rnd() * PARTS.length)];
    const key = () => Array.from({ length: 1 + Math.floor(rnd() * 3) }, pick).join('');
    for (let round = 0; round < 400; round++) {
      const keys = Array.from({ length: 1 + Math.floor(rnd() * 4) }, key);
      const values = keys.map((_, i) => `v${round}.${i}`);
      const got = shapeBuilder<Record<string, unknown>>(keys)(values);
      const want = assigned(keys, values);
      expect({ keys, got: Object.entries(got) }).toEqual({ keys, got: Object.entries(want) });
    }
    expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
  });

  it('does not mistake a key holding the separator for two keys', () => {
    shapeBuilder(['a', 'b']);
    expect(Object.keys(shapeBuilder<object>(['a\u0000b'])(['x']))).toEqual(['a\u0000b']);
  });
});
