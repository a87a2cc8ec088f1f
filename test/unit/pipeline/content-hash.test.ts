import { createHash } from 'node:crypto';
import { contentHash } from '../../../pipeline/records';
import { shapeBuilder } from '../../../kernel/fixed-shape';
import { mulberry32 } from '../../../simulator/prng';

/**
 * The content hash is written into a reused buffer (pipeline/records.ts) instead of a concatenated
 * string: the digest must stay the concatenation's, or every user would be published again after an
 * upgrade. The oracle is the string form kept verbatim. Random rows: key lists that change from row
 * to row (as pages of different jobs), plain objects and compiled shapes, values with multi-byte
 * UTF-8, surrogate pairs, lone surrogates, \u0000 and \u0001, empty and long (the buffer grows), and
 * the odd value that is not a string (hashed as the template literal wrote it).
 * Seeded: HASH_SEED=n replays.
 */
const SEED = Number(process.env.HASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

function before(row: Readonly<Record<string, string>>, seed: string): string {
  let text = seed;
  for (const k in row) text += `\u0001${k}\u0000${row[k]}`;
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

it(`the same digest as the concatenated text, for any row (HASH_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (k: number) => Math.floor(rnd() * k);
  const chars = [
    ...'abcXYZ019_-:|. ',
    '\u00e9',
    '\u00fc',
    '\u4e2d',
    '\u{1f600}',
    '\ud800',
    '\udc00',
    '\u0000',
    '\u0001',
  ];
  const text = (max: number) => Array.from({ length: int(max + 1) }, () => chars[int(chars.length)]).join('');
  const keyLists = Array.from({ length: 6 }, () => [
    ...new Set(['Id', ...Array.from({ length: int(40) }, () => (int(4) === 0 ? text(12) : `Field${int(300)}__c`))]),
  ]);
  for (let i = 0; i < 3000; i++) {
    const keys = keyLists[int(i % 50 === 0 ? keyLists.length : 2)] as string[];
    const values = keys.map(() =>
      int(200) === 0
        ? text(40_000)
        : int(300) === 0
          ? ([null, undefined, 7, true][int(4)] as unknown as string)
          : text(int(3) === 0 ? 60 : 8),
    );
    const row =
      int(2) === 0
        ? shapeBuilder<Record<string, string>>(keys)(values)
        : Object.fromEntries(keys.map((k, j) => [k, values[j] as string]));
    const seed = int(10) === 0 ? text(30) : 'mapping-fingerprint';
    expect([i, contentHash(row, seed)]).toEqual([i, before(row, seed)]);
  }
});
