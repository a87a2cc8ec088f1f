import { createHash } from 'node:crypto';
import { contentHash, rowDigest, ROW_DIGEST_MARK, userDigest } from '../../../pipeline/records';
import { shapeBuilder } from '../../../kernel/fixed-shape';
import { mulberry32 } from '../../../simulator/prng';
import { LiveIndex } from '../../../pipeline/kafka/live-index';
import { withCarriedFlags } from '../../../pipeline/user-login-flags';

/**
 * rowDigest (pipeline/records.ts), the users' content hash since session 12: the column list hashed
 * once, then the values with their lengths. What it must keep: a row whose content changed is never
 * skipped, so a changed row never gets the digest of the row before; equal rows get equal digests
 * (whatever object holds them); and the digest is a fixed function of the row (the reference below,
 * written from its definition), or a stored digest would stop matching after a change of the code.
 * Random rows and random single edits: a value replaced, characters moved between adjacent values
 * (or between a column name and its value), a value emptied or filled (a Bulk CSV null is ''), a
 * column dropped, a key renamed. Seeded: ROW_DIGEST_SEED=n replays.
 */
const SEED = Number(process.env.ROW_DIGEST_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** The definition, spelled out: sha256 of the JSON of [seed, [columns]], then each value's length and UTF-8. */
function reference(row: Readonly<Record<string, string>>, seed: string): string {
  const keys = Object.keys(row);
  const parts = [
    createHash('sha256')
      .update(JSON.stringify([seed, keys]))
      .digest(),
  ];
  for (const k of keys) {
    const v = Buffer.from(String(row[k]), 'utf8');
    const len = String(row[k]).length < 85 ? Buffer.from([v.length]) : Buffer.alloc(5);
    if (len.length === 5) {
      len[0] = 255;
      len.writeUInt32LE(v.length, 1);
    }
    parts.push(len, v);
  }
  return ROW_DIGEST_MARK + createHash('sha256').update(Buffer.concat(parts)).digest('base64url').slice(0, 20);
}

// No lone surrogates: UTF-8 writes them as U+FFFD (as contentHash did), and a CSV page's decoded text holds none.
const CHARS = [...'abcXYZ019_-:|., "', '\u00e9', '\u4e2d', '\u{1f600}', '\ufffd', '\u0000', '\u0001', '\u00ff'];

function random(seed: number) {
  const rnd = mulberry32(seed);
  const int = (k: number) => Math.floor(rnd() * k);
  const text = (max: number) => Array.from({ length: int(max + 1) }, () => CHARS[int(CHARS.length)]).join('');
  const value = () => (int(4) === 0 ? '' : int(100) === 0 ? text(3000) : text([3, 20, 84, 85, 90, 300][int(6)]));
  return { int, text, value };
}

/** The last `n` characters of `a` moved to the start of `b`. */
const move = (a: string, b: string, n: number): [string, string] => [
  a.slice(0, Math.max(0, a.length - n)),
  a.slice(Math.max(0, a.length - n)) + b,
];
/** The first `n` characters of `b` moved to the end of `a`. */
const moveBack = (a: string, b: string, n: number): [string, string] => [a + b.slice(0, n), b.slice(n)];

function build(keys: string[], values: string[], compiled: boolean): Record<string, string> {
  return compiled
    ? shapeBuilder<Record<string, string>>(keys)(values)
    : Object.fromEntries(keys.map((k, j) => [k, values[j]]));
}

it(`a changed row never has the digest of the row before; equal rows have equal ones (ROW_DIGEST_SEED=${SEED})`, () => {
  const { int, text, value } = random(SEED);
  const keyLists = Array.from({ length: 5 }, () => [
    ...new Set(['Id', ...Array.from({ length: 1 + int(60) }, () => (int(5) === 0 ? text(10) : `Field${int(300)}__c`))]),
  ]);
  let edits = 0;
  for (let i = 0; i < 2000; i++) {
    const keys = [...keyLists[int(i % 40 === 0 ? keyLists.length : 2)]];
    const values = keys.map(value);
    const seed = int(10) === 0 ? text(20) : 'mapping-fingerprint';
    const row = build(keys, values, int(2) === 0);
    const digest = rowDigest(row, seed);
    expect([i, digest]).toEqual([i, reference(row, seed)]);
    // the same row in another object (another shape, another position in the run): the same digest
    expect([i, rowDigest(build(keys, [...values], int(2) === 0), seed)]).toEqual([i, digest]);

    // one edit
    const k2 = [...keys];
    const v2 = [...values];
    const j = int(keys.length);
    const kind = int(6);
    if (kind === 0) v2[j] = value();
    else if (kind === 1 && j + 1 < keys.length) {
      // characters moved across the boundary of two adjacent values, either way
      const n = 1 + int(3);
      const [a, b] = int(2) === 0 ? move(v2[j], v2[j + 1], n) : moveBack(v2[j], v2[j + 1], n);
      v2[j] = a;
      v2[j + 1] = b;
    } else if (kind === 2) v2[j] = v2[j] === '' ? text(3) || 'x' : '';
    else if (kind === 3 && keys.length > 1) {
      k2.splice(j, 1);
      v2.splice(j, 1);
    } else if (kind === 4) {
      // characters moved between a column name and its value
      const [a, b] = int(2) === 0 ? moveBack(k2[j], v2[j], 1) : move(k2[j], v2[j], 1);
      if (a !== '') {
        k2[j] = a;
        v2[j] = b;
      }
    } else k2[j] = `${k2[j]}x`;
    if (new Set(k2).size !== k2.length) continue; // a renamed key that another column has
    const changed = JSON.stringify([k2, v2]) !== JSON.stringify([keys, values]);
    const edited = build(k2, v2, int(2) === 0);
    if (changed) edits++;
    expect([i, kind, rowDigest(edited, seed) === digest]).toEqual([i, kind, !changed]);
  }
  expect(edits).toBeGreaterThan(1500);
});

it('a value not a string is digested as the template literal writes it; a re-entered digest is the same', () => {
  const inner = { Id: 'b', Name: 'x'.repeat(200) };
  const innerDigest = rowDigest(inner, 's');
  let seen = '';
  const sneaky = {
    toString() {
      seen = rowDigest(inner, 's');
      return 'v';
    },
  };
  const outer = { Id: 'a', Name: sneaky as unknown as string, Other: 'y'.repeat(500) };
  const got = rowDigest(outer, 's');
  expect(seen).toBe(innerDigest);
  expect(got).toBe(reference({ Id: 'a', Name: 'v', Other: 'y'.repeat(500) }, 's'));
  expect(rowDigest({ Id: 'a', N: 7 as unknown as string }, 's')).toBe(rowDigest({ Id: 'a', N: '7' }, 's'));
});

it("column names that held contentHash's separators cannot spell another column list", () => {
  const a = { 'a\u0000\u0001b': 'x', c: 'y' };
  const b = { a: 'x', 'b\u0000\u0001c': 'y' };
  // contentHash's text is the same for both column lists (its prefixes are \u0001<column>\u0000)
  expect(contentHash({ 'a\u0000\u0001b': '', c: '' }, 's')).toBe(contentHash({ a: '', 'b\u0000\u0001c': '' }, 's'));
  expect(rowDigest(a, 's')).not.toBe(rowDigest(b, 's'));
});

describe('userDigest: the skip across the upgrade from contentHash', () => {
  const seed = 'fp';
  const row = { Id: '005A', Name: 'Ann', Title: '' };
  const changed = { Id: '005A', Name: 'Ann', Title: 'x' };

  it('a stored contentHash digest of the same row: unchanged, and it keeps that digest', () => {
    expect(userDigest(row, seed, contentHash(row, seed))).toEqual({ hash: contentHash(row, seed), unchanged: true });
  });
  it('a stored contentHash digest of another row: changed, and it goes out with a rowDigest', () => {
    expect(userDigest(changed, seed, contentHash(row, seed))).toEqual({
      hash: rowDigest(changed, seed),
      unchanged: false,
    });
  });
  it('a stored rowDigest: unchanged only for the same row', () => {
    expect(userDigest(row, seed, rowDigest(row, seed))).toEqual({ hash: rowDigest(row, seed), unchanged: true });
    expect(userDigest(changed, seed, rowDigest(row, seed)).unchanged).toBe(false);
  });
  it('no previous, an empty one, or another seed: changed', () => {
    expect(userDigest(row, seed, undefined)).toEqual({ hash: rowDigest(row, seed), unchanged: false });
    expect(userDigest(row, seed, '').unchanged).toBe(false);
    expect(userDigest(row, 'other', rowDigest(row, seed)).unchanged).toBe(false);
    expect(userDigest(row, 'other', contentHash(row, seed)).unchanged).toBe(false);
  });
  it('a contentHash digest that starts with the mark is taken for a rowDigest: published again, never skipped', () => {
    const marked = ROW_DIGEST_MARK + contentHash(row, seed).slice(2);
    expect(userDigest(row, seed, marked).unchanged).toBe(false);
    expect(rowDigest(row, seed)).toHaveLength(22);
    expect(rowDigest(row, seed).startsWith(ROW_DIGEST_MARK)).toBe(true);
  });
});

it('the live index packs a rowDigest like a contentHash digest; carried UserLogin flags give the same digest', () => {
  const known = {
    Id: 'a',
    IsActive: 'true',
    Title: 'x',
    'UserLogin.IsFrozen': 'true',
    'UserLogin.IsPasswordLocked': 'false',
  };
  const filled = withCarriedFlags({ Id: 'a', IsActive: 'true', Title: 'x' }, 'tf');
  expect(rowDigest(filled, 's')).toBe(rowDigest(known, 's'));
  const live = new LiveIndex();
  const digest = rowDigest(known, 's');
  live.put('u1', { hash: digest, flags: 'tf' });
  live.put('u2', { hash: contentHash(known, 's') });
  expect(live.get('u1')).toEqual({ hash: digest, device: undefined, flags: 'tf' });
  expect(live.get('u2')?.hash).toBe(contentHash(known, 's'));
  // 22 base64url characters: packed in 17 bytes (live-index.ts packHash), as contentHash's digests
  expect(digest).toMatch(/^[A-Za-z0-9_-]{22}$/);
});

it('rows of alternating column lists and seeds: each its own digest, as when digested alone', () => {
  const rows: Record<string, string>[] = [
    { Id: 'a', T: 'x' },
    { Id: 'a', T: 'x', 'UserLogin.IsFrozen': 'true' },
    { Id: 'a', T: 'x', 'UserLogin.IsFrozen': 'true', 'UserLogin.IsPasswordLocked': 'false' },
    { Id: 'a', U: 'x' },
    { T: 'x', Id: 'a' },
    { Id: 'a' },
  ];
  const alone = rows.flatMap((r) => ['s', 't'].map((seed) => reference(r, seed)));
  expect(new Set(alone).size).toBe(alone.length);
  for (let round = 0; round < 3; round++)
    for (const i of [0, 1, 0, 2, 3, 4, 5, 1, 0, 5, 4, 3, 2])
      for (const [j, seed] of ['s', 't'].entries()) expect(rowDigest(rows[i], seed)).toBe(alone[i * 2 + j]);
});
