import { createHash } from 'node:crypto';
import { contentHash, rowDigest, ROW_DIGEST_MARK, userDigest } from '../../../pipeline/records';
import { shapeBuilder } from '../../../kernel/fixed-shape';
import { mulberry32 } from '../../../simulator/prng';
import { LiveIndex, packHash } from '../../../pipeline/kafka/live-index';
import { packHashReference } from '../../support/pack-hash-reference';
import { applyEntry, entryValue } from '../../../pipeline/kafka/live-index-topic';

/**
 * Review of rowDigest / userDigest (session 12). Pins (these pass; they guard risky code): the
 * column-digest cache (4 entries, most recent first) under random churn of column lists that are
 * prefixes, reorderings and renamings of each other, with alternating seeds and re-entered digests
 * that evict the outer row's cache entry; values past the 16 KiB / 64 KiB buffers and at the length
 * prefix's boundaries; the live index round trip of `_2` digests (packHash, the index topic's entry).
 * Every digest is compared with an oracle written here from the definition, and distinct rows must
 * have distinct digests. Seeded: ROW_DIGEST_REVIEW_SEED=n replays.
 */
const SEED = Number(process.env.ROW_DIGEST_REVIEW_SEED ?? Math.floor(Math.random() * 2 ** 31));

function oracle(row: Readonly<Record<string, unknown>>, seed: string): string {
  const keys: string[] = [];
  for (const k in row) keys.push(k);
  const h = createHash('sha256').update(
    createHash('sha256')
      .update(JSON.stringify([seed, keys]))
      .digest(),
  );
  for (const k of keys) {
    const s = `${row[k] as string}`;
    const b = Buffer.from(s, 'utf8');
    if (s.length === 0) h.update(Buffer.from([0]));
    else if (s.length < 85) h.update(Buffer.from([b.length]));
    else {
      const l = Buffer.alloc(5);
      l[0] = 255;
      l.writeUInt32LE(b.length, 1);
      h.update(l);
    }
    h.update(b);
  }
  return ROW_DIGEST_MARK + h.digest('base64url').slice(0, 20);
}

/** A canonical text of a row (keys in for-in order, values): equal texts are equal rows. */
const canon = (row: Readonly<Record<string, unknown>>, seed: string) => {
  const e: [string, unknown][] = [];
  for (const k in row) e.push([k, row[k]]);
  return JSON.stringify([seed, e]);
};

const CH = ['a', 'b', '"', '\\', '\u0000', '\u0001', '\u00e9', '\u4e2d', '\u{1f600}', '\u2028', ' ', '_'];

it(`the column-digest cache never mixes lists or seeds, re-entered or not (ROW_DIGEST_REVIEW_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (k: number) => Math.floor(rnd() * k);
  const text = (n: number) => Array.from({ length: n }, () => CH[int(CH.length)]).join('');
  const base = ['Id', 'Name', 'Title', 'UserLogin.IsFrozen', 'UserLogin.IsPasswordLocked', '0', '1x', 'a"b'];
  // lists: prefixes of each other, reorderings, a renamed column, one column more
  const lists: string[][] = [];
  for (let n = 1; n <= base.length; n++) lists.push(base.slice(0, n));
  lists.push(
    [...base].reverse(),
    [base[1], base[0], ...base.slice(2)],
    [...base.slice(0, 3), 'Titl', ...base.slice(4)],
  );
  lists.push([...base, 'extra'], ['Name', 'Id']);
  const seeds = ['s', 't', 'u', 's2', ''];
  const lengths = [0, 1, 2, 84, 85, 86, 254, 255, 256, 1500];
  const byDigest = new Map<string, string>();
  let checks = 0;
  for (let i = 0; i < 3000; i++) {
    const cols = lists[int(lists.length)];
    const seed = seeds[int(seeds.length)];
    const values = cols.map(() => text(lengths[int(lengths.length)]));
    const kind = int(4);
    let row: Record<string, unknown>;
    if (kind === 0) row = shapeBuilder<Record<string, string>>(cols)(values);
    else {
      row = {};
      cols.forEach((c, j) => (row[c] = values[j]));
    }
    if (kind === 3) {
      // a value whose toString digests other rows: the cache churns (and evicts) under the outer row
      const j = int(cols.length);
      const inner = values[j];
      const others = Array.from({ length: 1 + int(5) }, () => {
        const oc = lists[int(lists.length)];
        const o: Record<string, string> = {};
        for (const c of oc) o[c] = text(int(3));
        return [o, seeds[int(seeds.length)]] as const;
      });
      row[cols[j]] = {
        toString() {
          for (const [o, s] of others) expect(rowDigest(o, s)).toBe(oracle(o, s));
          return inner;
        },
      };
    }
    const want = oracle(row, seed);
    const got = rowDigest(row as Record<string, string>, seed);
    expect({ i, got }).toEqual({ i, got: want });
    const c = canon(kind === 3 ? Object.fromEntries(cols.map((k, j) => [k, values[j]])) : row, seed);
    const prior = byDigest.get(got);
    if (prior !== undefined) expect({ i, same: prior }).toEqual({ i, same: c });
    byDigest.set(got, c);
    checks++;
  }
  expect(checks).toBe(3000);
});

it('values past the buffers and at the length boundaries: as the oracle, and each its own digest', () => {
  const rows: Record<string, string>[] = [];
  const big = (n: number, ch: string) => ch.repeat(n);
  for (const n of [84, 85, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 200_000])
    for (const ch of ['a', '\u00e9', '\u4e2d', '\u{1f600}']) rows.push({ Id: 'x', V: big(n, ch), W: 'z' });
  // the bytes shifted between adjacent columns, around the 255-byte and 64 KiB boundaries
  for (const n of [254, 255, 256, 65535, 65536]) {
    rows.push({ Id: 'x', V: big(n, 'a'), W: 'b' });
    rows.push({ Id: 'x', V: big(n - 1, 'a'), W: 'ab' });
    rows.push({ Id: 'x', V: big(n + 1, 'a'), W: '' });
  }
  rows.push({ Id: 'x', V: '', W: '' }, { Id: 'x', V: '' }, { Id: 'x', W: '' }, { Id: 'x' });
  const seen = new Map<string, number>();
  rows.forEach((r, i) => {
    const d = rowDigest(r, 's');
    expect({ i, d }).toEqual({ i, d: oracle(r, 's') });
    expect({ i, dup: seen.get(d) }).toEqual({ i, dup: undefined });
    seen.set(d, i);
    expect(rowDigest(r, 't')).not.toBe(d);
  });
});

it(`_2 and old digests round trip through the live index and its entries (ROW_DIGEST_REVIEW_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED ^ 0x5bd1e995);
  const live = new LiveIndex();
  for (let i = 0; i < 2000; i++) {
    const row = { Id: `005${i}`, T: String(rnd()) };
    const hashes = [rowDigest(row, 'fp'), contentHash(row, 'fp'), ROW_DIGEST_MARK + contentHash(row, 'fp').slice(2)];
    for (const [j, h] of hashes.entries()) {
      expect(packHash(h)).toBe(packHashReference(h));
      const key = `k${i}.${j}`;
      live.put(key, { hash: h, flags: 'tf' });
      expect(live.get(key)?.hash).toBe(h);
      const copy = new LiveIndex();
      applyEntry(copy, key, entryValue('org', 'tf', h, undefined), 'org');
      expect(copy.get(key)?.hash).toBe(h);
      // what the next run decides from it: unchanged for the row's own digest of either kind;
      // the `_2`-looking old digest is republished (once), never skipped
      const own = j === 0 || (j === 1 && !h.startsWith(ROW_DIGEST_MARK)); // an old one may begin with `_2`
      expect(userDigest(row, 'fp', live.get(key)?.hash).unchanged).toBe(own);
      expect(userDigest({ ...row, T: `${row.T}x` }, 'fp', live.get(key)?.hash).unchanged).toBe(false);
    }
  }
});

/**
 * FINDING (low): userDigest's "exact both ways" does not hold across the upgrade. A previous digest of
 * the old kind is compared with contentHash (records.ts userDigest), whose text `\u0001<column>\u0000<value>`
 * lets characters move between two values when a value holds `\u0001<next column>\u0000`: two different
 * rows, one contentHash. A user last published before session 12 whose row changes from one to the other
 * is counted unchanged and never published (a silent lost update), although rowDigest itself tells them
 * apart. Pre-existing in contentHash, but the change keeps it alive for every user not re-published since
 * the upgrade, and documents the comparison as exact. Reachable only if Salesforce values hold U+0000
 * and U+0001 AND nothing else of the row changes: an edit of a User row also moves its SystemModstamp
 * and LastModifiedDate (columns of the row), which breaks the collision; end to end against the
 * simulator the changed title was published (the test was dropped for that). Columns that change
 * without a User edit (UserRole.Name / DeveloperName on a role rename) would need those characters in an
 * API name. So: the function's documented claim, not a reachable lost update today.
 */
it('a user with an old-form digest whose values shift across contentHash separators is not taken for unchanged', () => {
  const seed = 'fp';
  const before = { Id: '005A', Title: 'p\u0001City\u0000q', City: 'r' };
  const after = { Id: '005A', Title: 'p', City: 'q\u0001City\u0000r' };
  expect(rowDigest(after, seed)).not.toBe(rowDigest(before, seed)); // the new digest tells them apart
  expect(userDigest(after, seed, contentHash(before, seed)).unchanged).toBe(false);
});
