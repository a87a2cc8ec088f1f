import { convertScalar } from '../../../pipeline/stages/convert';
import { mulberry32 } from '../../../simulator/prng';

/**
 * convertScalar decides a valid calendar day by arithmetic instead of a Date.UTC round trip (a
 * Date per datetime value on the hot path). Every accepted value and every refusal must stay what
 * the round trip gave: compared here with the previous code (kept below as the oracle) on random
 * datetimes and dates near every edge (years 0000-0099 and 0100, leap days of 1900/2000/2024,
 * month 00/13, day 00/31/32, hour 24, minute and second 60, fractions of 0-9 digits, zones),
 * plus random noise. Seeded: CALENDAR_SEED=n replays.
 */
const SEED = Number(process.env.CALENDAR_SEED ?? Math.floor(Math.random() * 2 ** 31));

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
type Out = { ok: true; value: number } | { ok: false; reason: string };

function oracleDatetime(raw: string): Out {
  const m = DATETIME.exec(raw);
  if (!m) return { ok: false, reason: 'not an ISO-8601 datetime with a zone (e.g. 2024-05-01T10:20:30.000Z)' };
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (!sameCalendar(local, y, mo, d) || h > 23 || mi > 59 || s > 59)
    return { ok: false, reason: 'not a valid calendar datetime' };
  return { ok: true, value: local - offsetMinutes(m[8]) * 60_000 };
}

function oracleDate(raw: string): Out {
  const m = DATE.exec(raw);
  if (!m) return { ok: false, reason: 'not a date (YYYY-MM-DD)' };
  const [y, mo, d] = m.slice(1, 4).map(Number);
  const t = Date.UTC(y, mo - 1, d);
  return sameCalendar(t, y, mo, d)
    ? { ok: true, value: t / 86_400_000 }
    : { ok: false, reason: 'not a valid calendar date' };
}

function sameCalendar(t: number, y: number, mo: number, d: number): boolean {
  const date = new Date(t);
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function offsetMinutes(zone: string): number {
  if (zone === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return zone[0] === '-' ? -minutes : minutes;
}

test(`datetimes and dates: same values and refusals as the Date.UTC round trip (CALENDAR_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  const year = () =>
    pick([int(100), 100, 1600, 1700, 1800, 1900, 1969, 1970, 2000, 2023, 2024, 2100, 9999, 100 + int(9900)]);
  const values: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const date = `${pad(year(), 4)}-${pad(pick([0, 1, 2, 2, 2, 4, 12, 13, int(100)]), 2)}-${pad(
      pick([0, 1, 28, 29, 29, 30, 31, 32, int(100)]),
      2,
    )}`;
    const time = `${pad(pick([0, 23, 24, int(100)]), 2)}:${pad(pick([0, 59, 60, int(100)]), 2)}:${pad(
      pick([0, 59, 60, int(100)]),
      2,
    )}`;
    const fraction = pick([
      '',
      '.',
      `.${String(int(1e9)).slice(0, 1 + int(9))}`,
      '.1234567890',
      `.${pad(int(1000), 3)}`,
    ]);
    const zone = pick([
      'Z',
      'z',
      `+${pad(int(24), 2)}:${pad(int(60), 2)}`,
      `-${pad(int(24), 2)}${pad(int(60), 2)}`,
      '',
    ]);
    values.push(`${date}T${time}${fraction}${zone}`, date);
    if (rnd() < 0.05) values.push(`${date}${pick([' ', 'x', 'T'])}`, `${date}T${time}`.slice(0, int(25)));
    // Salesforce's own form (24 characters, read by character code) with one character changed
    const bulk = [...`${date}T${time}.${pad(int(1000), 3)}Z`];
    if (bulk.length === 24 && rnd() < 0.5) bulk[int(24)] = pick([...'0123456789-T:.Zz/ +a\u0663\uff10']);
    values.push(bulk.join(''));
  }
  let accepted = 0;
  for (const raw of values) {
    const want = [oracleDatetime(raw), oracleDate(raw)];
    const got = [convertScalar('timestamp-millis', raw), convertScalar('date', raw)];
    expect({ raw, got }).toEqual({ raw, got: want });
    accepted += want.filter((w) => w.ok).length;
  }
  console.log(`convert-calendar: seed ${SEED}, ${values.length} values, ${accepted} accepted`);
  expect(accepted).toBeGreaterThan(1000);
});
