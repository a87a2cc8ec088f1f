import { loginStart, LoginTracker } from '../../../../connectors/salesforce/logins';

const row = (Id: string, LoginTime: string) => ({ Id, LoginTime, UserId: '005' });
const MIN = 60_000;

describe('LoginHistory watermark and overlap', () => {
  it('starts at watermark − overlap, or now − look-back on the first run', () => {
    expect(
      loginStart(new Date('2026-10-01T00:05:00Z'), 5 * MIN, 30, Date.parse('2026-10-02T00:00:00Z')).toISOString(),
    ).toBe('2026-10-01T00:00:00.000Z');
    // a watermark in the future (written before the cap, or a bad clock) counts as now
    expect(
      loginStart(new Date('2027-10-01T00:05:00Z'), 5 * MIN, 30, Date.parse('2026-10-02T00:00:00Z')).toISOString(),
    ).toBe('2026-10-01T23:55:00.000Z');
    expect(loginStart(null, 5 * MIN, 30, Date.parse('2026-11-01T00:00:00Z')).toISOString()).toBe(
      '2026-10-02T00:00:00.000Z',
    );
  });

  it('keeps only the ids inside the overlap window of the new watermark', () => {
    const t = new LoginTracker(null, 5 * MIN);
    expect(t.accept(row('a', '2026-10-01T00:00:00.000Z'))).toBe(true);
    expect(t.accept(row('b', '2026-10-01T00:20:00.000Z'))).toBe(true);
    expect(t.accept(row('c', '2026-10-01T00:16:00.000Z'))).toBe(true);
    expect(t.accept(row('d', '2026-10-01T00:15:00.000Z'))).toBe(true); // exactly watermark − overlap
    expect(t.accept(row('e', '2026-10-01T00:14:59.999Z'))).toBe(true);
    expect(t.cursor()).toEqual({ watermark: '2026-10-01T00:20:00.000Z', recentIds: ['b', 'c', 'd'] });
  });

  it('drops the events the previous extraction emitted and never moves the watermark back', () => {
    const t = new LoginTracker(
      { watermarkMs: Date.parse('2026-10-01T00:20:00Z'), ids: new Set(['b', 'c', 'd']) },
      5 * MIN,
    );
    expect(t.accept(row('d', '2026-10-01T00:15:00.000Z'))).toBe(false);
    expect(t.accept(row('b', '2026-10-01T00:20:00.000Z'))).toBe(false);
    expect(t.accept(row('x', '2026-10-01T00:20:00.000Z'))).toBe(true); // same instant, new event
    expect(t.accept(row('late', '2026-10-01T00:17:00.000Z'))).toBe(true); // committed late
    expect(t.duplicatesDropped()).toBe(2);
    expect(t.cursor()).toEqual({ watermark: '2026-10-01T00:20:00.000Z', recentIds: ['b', 'd', 'late', 'x'] });
  });

  it('holds memory to the overlap window, not to all events', () => {
    const t = new LoginTracker(null, 1000);
    const start = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < 100_000; i++) t.accept(row(`id${i}`, new Date(start + i * 100).toISOString()));
    // the events the next query reads again: from the whole second at or before watermark - overlap
    // (SOQL's bound is to the second): 9,998.0 s .. 9,999.9 s, every 100 ms
    expect(t.cursor()!.recentIds.length).toBe(20);
    expect((t as unknown as { recent: Map<string, number> }).recent.size).toBeLessThan(10_000);
  });

  it('refuses a row whose LoginTime is not a datetime', () => {
    expect(() => new LoginTracker(null, 0).accept(row('a', 'yesterday'))).toThrow(/LoginTime/);
  });

  it('has no cursor before any event', () => {
    expect(new LoginTracker(null, 0).cursor()).toBeNull();
  });
});
