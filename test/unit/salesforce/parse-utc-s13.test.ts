import { parseUtc } from '../../../connectors/salesforce/logins';
import { mulberry32 } from '../../../simulator/prng';

/**
 * parseUtc's Bulk-form path (session 13, kernel/bulk-datetime.ts readBulkDatetime) against the regex
 * path it had before, kept here verbatim as the oracle: the same number (or NaN) for the Bulk form,
 * for that form with one character replaced or dropped or one added, and for the other ISO forms the
 * regex reads. Replay with PARSE_UTC_SEED=<n>.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

function parseUtcBefore(text: string): number {
  const m = ISO.exec(text);
  if (!m) return NaN;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const zone = m[8];
  if (!zone || zone === 'Z') return t;
  const digits = zone.slice(1).replace(':', '');
  const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return t - (zone[0] === '-' ? -offset : offset) * 60_000;
}

const SEED = Number(process.env.PARSE_UTC_SEED ?? Math.floor(Math.random() * 1_000_000));
console.log(`PARSE_UTC_SEED=${SEED}`);
const rnd = mulberry32(SEED);
const int = (n: number) => Math.floor(rnd() * n);
const pad = (v: number, n: number) => String(v).padStart(n, '0');
/** Characters a mutation puts in: digits, the form's separators, and some others (a non-ASCII digit too). */
const CHARS = '0123456789-T:.Z+ zt/\u0660\u00e9\uff10';

function bulkForm(): string {
  // out-of-range fields too (month 13, hour 24…): Date.UTC rolls them over on both paths
  return (
    `${pad(int(10_000), 4)}-${pad(int(20), 2)}-${pad(int(40), 2)}T${pad(int(30), 2)}:${pad(int(70), 2)}:` +
    `${pad(int(70), 2)}.${pad(int(1000), 3)}Z`
  );
}

function mutated(s: string): string {
  const i = int(s.length + 1);
  const c = CHARS[int(CHARS.length)];
  const kind = int(3);
  if (kind === 0) return s.slice(0, i) + c + s.slice(i + 1); // replaced
  if (kind === 1) return s.slice(0, i) + s.slice(i + 1); // dropped
  return s.slice(0, i) + c + s.slice(i); // added
}

function otherIso(): string {
  const base = bulkForm().slice(0, 19);
  const frac = ['', `.${pad(int(10), 1)}`, `.${pad(int(1e6), 6)}`, `.${pad(int(1e9), 9)}`][int(4)];
  const zone = ['', 'Z', `+${pad(int(15), 2)}:${pad(int(60), 2)}`, `-${pad(int(15), 2)}${pad(int(60), 2)}`][int(4)];
  return base + frac + zone;
}

it('reads every text as the regex path did (the Bulk form, its one-character mutations, other ISO forms)', () => {
  const wrong: { text: string; got: number; want: number }[] = [];
  for (let n = 0; n < 200_000; n++) {
    const k = n % 3;
    const text = k === 0 ? bulkForm() : k === 1 ? mutated(bulkForm()) : otherIso();
    const got = parseUtc(text);
    const want = parseUtcBefore(text);
    if (!Object.is(got, want)) wrong.push({ text, got, want });
    if (wrong.length > 5) break;
  }
  expect(wrong).toEqual([]);
});

it('reads the Bulk form as the instant it names', () => {
  expect(parseUtc('2026-11-27T23:59:58.123Z')).toBe(Date.parse('2026-11-27T23:59:58.123Z'));
  expect(parseUtc('1970-01-01T00:00:00.000Z')).toBe(0);
  expect(parseUtc('2026-11-27T23:59:58.12Z')).toBe(Date.parse('2026-11-27T23:59:58.120Z'));
  expect(parseUtc('2026-11-27T23:59:58.1a3Z')).toBeNaN();
});
