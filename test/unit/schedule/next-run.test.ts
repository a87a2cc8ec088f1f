import { nextRun, parseCron, type Schedule } from '../../../pipeline/schedule';

const at = (hour: number, minute = 0) => ({ hour, minute });
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** The next `n` runs after `from`. */
function runs(s: Schedule, from: string, n: number): (string | null)[] {
  const out: (string | null)[] = [];
  let t = Date.parse(from);
  for (let i = 0; i < n; i++) {
    const next = nextRun(s, t);
    out.push(iso(next));
    if (next === null) break;
    t = next;
  }
  return out;
}

describe('nextRun', () => {
  it.each([
    // zone, after (UTC), expected next run (UTC) for daily at 02:00 local
    ['UTC', '2026-06-01T01:59:59Z', '2026-06-01T02:00:00.000Z'],
    ['UTC', '2026-06-01T02:00:00Z', '2026-06-02T02:00:00.000Z'], // strictly after
    ['Europe/Berlin', '2026-06-01T00:00:00Z', '2026-06-02T00:00:00.000Z'], // CEST, UTC+2: 02:00 was at 00:00Z
    ['Europe/Berlin', '2026-01-15T00:30:00Z', '2026-01-15T01:00:00.000Z'], // CET, UTC+1
    ['America/New_York', '2026-06-01T05:00:00Z', '2026-06-01T06:00:00.000Z'], // EDT, UTC-4
    ['Asia/Kolkata', '2026-06-01T00:00:00Z', '2026-06-01T20:30:00.000Z'], // UTC+5:30
  ])('daily 02:00 in %s after %s is %s', (timeZone, after, expected) => {
    expect(iso(nextRun({ repeats: 'daily', startTime: at(2), timeZone, active: true }, Date.parse(after)))).toBe(
      expected,
    );
  });

  describe('across DST changes', () => {
    it('runs a start time in the spring gap at the next valid minute (Berlin, 29 March 2026)', () => {
      const s: Schedule = { repeats: 'daily', startTime: at(2, 30), timeZone: 'Europe/Berlin', active: true };
      // 02:30 does not exist that night: 03:00 CEST = 01:00Z; the days around run at 02:30 local.
      expect(runs(s, '2026-03-28T00:00:00Z', 3)).toEqual([
        '2026-03-28T01:30:00.000Z',
        '2026-03-29T01:00:00.000Z',
        '2026-03-30T00:30:00.000Z',
      ]);
    });

    it('runs an ambiguous start time once, at its first occurrence (Berlin, 25 October 2026)', () => {
      const s: Schedule = { repeats: 'daily', startTime: at(2, 30), timeZone: 'Europe/Berlin', active: true };
      // 02:30 happens twice (CEST 00:30Z, then CET 01:30Z): only the first is a run.
      expect(runs(s, '2026-10-24T12:00:00Z', 2)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    });

    it('keeps the local time across the New York changes (8 March and 1 November 2026)', () => {
      const s: Schedule = { repeats: 'daily', startTime: at(2, 15), timeZone: 'America/New_York', active: true };
      // 02:15 on 8 March is in the gap → 03:00 EDT = 07:00Z; then 02:15 EDT = 06:15Z
      expect(runs(s, '2026-03-07T12:00:00Z', 3)).toEqual([
        '2026-03-08T07:00:00.000Z',
        '2026-03-09T06:15:00.000Z',
        '2026-03-10T06:15:00.000Z',
      ]);
      // 01:15 on 1 November happens twice (EDT 05:15Z, EST 06:15Z): once
      const fall: Schedule = { ...s, startTime: at(1, 15) };
      expect(runs(fall, '2026-10-31T12:00:00Z', 2)).toEqual(['2026-11-01T05:15:00.000Z', '2026-11-02T06:15:00.000Z']);
    });

    it('hourly: every real hour at its minute, so the runs stay an hour apart across both changes', () => {
      const s: Schedule = { repeats: 'hourly', startTime: at(0, 30), timeZone: 'Europe/Berlin', active: true };
      // local 01:30 CET (00:30Z); 02:30 does not exist; 03:30 CEST (01:30Z)
      expect(runs(s, '2026-03-29T00:00:00Z', 3)).toEqual([
        '2026-03-29T00:30:00.000Z',
        '2026-03-29T01:30:00.000Z',
        '2026-03-29T02:30:00.000Z',
      ]);
      // local 02:30 CEST (00:30Z), 02:30 CET again (01:30Z), 03:30 CET (02:30Z)
      expect(runs(s, '2026-10-24T23:59:00Z', 3)).toEqual([
        '2026-10-25T00:30:00.000Z',
        '2026-10-25T01:30:00.000Z',
        '2026-10-25T02:30:00.000Z',
      ]);
    });
  });

  it('weekly runs on the weekday, in the zone (Sunday 23:30 New York is Monday in UTC)', () => {
    const s: Schedule = {
      repeats: 'weekly',
      weekday: 'sunday',
      startTime: at(23, 30),
      timeZone: 'America/New_York',
      active: true,
    };
    // 00:00Z on 1 June is still Sunday 31 May, 20:00, in New York
    expect(runs(s, '2026-06-01T00:00:00Z', 2)).toEqual(['2026-06-01T03:30:00.000Z', '2026-06-08T03:30:00.000Z']);
  });

  it("monthly on day 31 runs on each month's last day", () => {
    const s: Schedule = { repeats: 'monthly', dayOfMonth: 31, startTime: at(1), timeZone: 'UTC', active: true };
    expect(runs(s, '2026-01-01T00:00:00Z', 5)).toEqual([
      '2026-01-31T01:00:00.000Z',
      '2026-02-28T01:00:00.000Z',
      '2026-03-31T01:00:00.000Z',
      '2026-04-30T01:00:00.000Z',
      '2026-05-31T01:00:00.000Z',
    ]);
    const leap: Schedule = { ...s, dayOfMonth: 30 };
    expect(iso(nextRun(leap, Date.parse('2028-02-01T00:00:00Z')))).toBe('2028-02-29T01:00:00.000Z');
  });

  it('cron: lists, ranges, steps, names, the day OR rule, and dates years away', () => {
    const s = (expr: string, timeZone = 'UTC'): Schedule => ({
      repeats: 'cron',
      cron: parseCron(expr),
      timeZone,
      active: true,
    });
    expect(runs(s('*/20 9-10 * * mon-fri'), '2026-06-05T10:30:00Z', 3)).toEqual([
      '2026-06-05T10:40:00.000Z',
      '2026-06-08T09:00:00.000Z',
      '2026-06-08T09:20:00.000Z',
    ]);
    // day 1 OR a Monday (both restricted)
    expect(runs(s('0 3 1 * 1'), '2026-06-01T04:00:00Z', 2)).toEqual([
      '2026-06-08T03:00:00.000Z',
      '2026-06-15T03:00:00.000Z',
    ]);
    expect(iso(nextRun(s('0 0 29 feb *'), Date.parse('2026-03-01T00:00:00Z')))).toBe('2028-02-29T00:00:00.000Z');
    expect(iso(nextRun(s('0 0 7 * 7', 'Europe/Berlin'), Date.parse('2026-06-01T00:00:00Z')))).toBe(
      '2026-06-06T22:00:00.000Z',
    );
    expect(nextRun(s('0 0 30 2 *'), Date.parse('2026-01-01T00:00:00Z'))).toBeNull();
  });
});

describe('parseCron', () => {
  it.each([
    ['* * * *', /5 fields/],
    ['0 0 * * * *', /5 fields/], // seconds are not cron's
    ['60 * * * *', /minute: 60/],
    ['* 24 * * *', /hour: 24/],
    ['* * 0 * *', /day/],
    ['* * * 13 *', /month/],
    ['* * * * 8', /dayOfWeek: 8/],
    ['*/0 * * * *', /stepping/],
    ['5-1 * * * *', /larger than/],
    ['x * * * *', /illegal characters/],
  ])('refuses %j', (expr, message) => {
    expect(() => parseCron(expr)).toThrow(message);
  });

  it('accepts names, lists, ranges and steps', () => {
    for (const expr of ['*/20 9-10 * * mon-fri', '0 3 1,15 jan-jun 1', '30 1 * * 7'])
      expect(parseCron(expr).source).toBe(expr);
  });
});
