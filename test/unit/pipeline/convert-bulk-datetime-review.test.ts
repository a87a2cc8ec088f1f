import { convertScalar } from '../../../pipeline/stages/convert';
import { mulberry32 } from '../../../simulator/prng';

/**
 * Review of pipeline/stages/convert.ts bulkDatetime (Salesforce's YYYY-MM-DDTHH:MM:SS.sssZ read by
 * character code): every 24-character string one character away from the form, for bases at the
 * calendar's edges (leap days of 1900/2000/2024/2023, year 0000/0099/0100/9999, month 00/13, day 31 of a
 * 30-day month, 24:00:00, 23:59:60), each position replaced by every printable ASCII character and
 * non-ASCII digits and separators; plus random two-character changes. The oracle is the regex path
 * that handled every form before (its code copied below). Seeded for the random part: BULK_DT_SEED=n.
 */
const SEED = Number(process.env.BULK_DT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function oracle(raw: string): { ok: true; value: number } | { ok: false; reason: string } {
  const m = DATETIME.exec(raw);
  if (!m) return { ok: false, reason: 'not an ISO-8601 datetime with a zone (e.g. 2024-05-01T10:20:30.000Z)' };
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const valid = y >= 100 && mo >= 1 && mo <= 12 && d >= 1 && d <= (mo === 2 && leap ? 29 : MONTH_DAYS[mo - 1]!);
  if (!valid || h > 23 || mi > 59 || s > 59) return { ok: false, reason: 'not a valid calendar datetime' };
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const zone = m[8]!;
  const off = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  return { ok: true, value: Date.UTC(y, mo - 1, d, h, mi, s, ms) - off * 60_000 };
}

const BASES = [
  '2024-02-29T10:20:30.123Z',
  '2023-02-29T10:20:30.123Z',
  '1900-02-29T00:00:00.000Z',
  '2000-02-29T23:59:59.999Z',
  '0000-01-01T00:00:00.000Z',
  '0099-12-31T12:00:00.000Z',
  '0100-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '2024-00-10T10:20:30.123Z',
  '2024-13-10T10:20:30.123Z',
  '2024-04-31T10:20:30.123Z',
  '2024-05-01T24:00:00.000Z',
  '2024-05-01T23:59:60.000Z',
  '1970-01-01T00:00:00.000Z',
];
const CHARS = [
  ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)),
  ...'\u0660\u0663\u06f5\u0966\uff10\uff19\u2010\u2212\uff1a\u00b7\u2024\uff3a\u0000\u00a0',
];

test(`24-character strings near the Bulk form: what the regex path gives (BULK_DT_SEED=${SEED})`, () => {
  const values = new Set<string>(BASES);
  for (const base of BASES)
    for (let at = 0; at < 24; at++) for (const c of CHARS) values.add(base.slice(0, at) + c + base.slice(at + 1));
  const rnd = mulberry32(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  for (let i = 0; i < 50_000; i++) {
    const v = [...(BASES[int(BASES.length)] as string)];
    for (let k = 0; k < 2; k++) v[int(24)] = CHARS[int(CHARS.length)] as string;
    values.add(v.join(''));
  }
  let accepted = 0;
  const wrong: string[] = [];
  for (const raw of values) {
    const want = oracle(raw);
    const got = convertScalar('timestamp-millis', raw);
    if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${JSON.stringify(raw)}: ${JSON.stringify(got)}`);
    if (want.ok) accepted++;
  }
  expect(wrong.slice(0, 10)).toEqual([]);
  expect(accepted).toBeGreaterThan(300);
});
