import { LoginTracker, parseUtc, MAX_RECENT_IDS } from '../../../connectors/salesforce/logins';
import { avroType, loadConnectorSchemas } from '../../../schemas/avro';
import { packIds, unpackIds } from '../../../pipeline/login-ids';
import { newRunState } from '../../../pipeline/run-state';
import { makeId, orgIdSpace } from '../../../simulator/ids';
import { seededRandom } from '../../support/sync-oracle';

/** Promise 5 in the small: the LoginHistory cursor is robust to bad clocks and stays small. */
const MIN = 60_000;
const row = (Id: string, LoginTime: string) => ({ Id, LoginTime });

describe('the LoginHistory cursor', () => {
  it('never moves the watermark past the extraction start; keeps future rows in the window (emitted once)', () => {
    const start = Date.parse('2026-11-01T12:00:00Z');
    const t = new LoginTracker(null, 60 * MIN, start);
    expect(t.accept(row('a', '2026-11-01T11:30:00.000Z'))).toBe(true);
    expect(t.accept(row('future', '2027-03-01T00:00:00.000Z'))).toBe(true);
    const c = t.cursor()!;
    expect(c.watermark).toBe('2026-11-01T12:00:00.000Z');
    expect(c.recentIds).toEqual(['a', 'future']);
    // the next extraction re-reads both: dropped by Id; a later normal row is new
    const next = new LoginTracker(
      { watermarkMs: Date.parse(c.watermark), ids: new Set(c.recentIds) },
      60 * MIN,
      start + 60 * MIN,
    );
    expect(next.accept(row('a', '2026-11-01T11:30:00.000Z'))).toBe(false);
    expect(next.accept(row('future', '2027-03-01T00:00:00.000Z'))).toBe(false);
    expect(next.accept(row('b', '2026-11-01T12:10:00.000Z'))).toBe(true);
    expect(next.cursor()!.watermark).toBe('2026-11-01T13:00:00.000Z');
  });

  it('reads LoginTime as UTC whatever the host time zone: a value without a zone is UTC', () => {
    const utc = Date.UTC(2026, 10, 1, 8, 30, 15, 120);
    expect(parseUtc('2026-11-01T08:30:15.120Z')).toBe(utc);
    expect(parseUtc('2026-11-01T08:30:15.120')).toBe(utc);
    expect(parseUtc('2026-11-01T10:30:15.120+02:00')).toBe(utc);
    expect(parseUtc('2026-11-01T03:30:15.12-0500')).toBe(utc);
    expect(parseUtc('yesterday')).toBeNaN();
  });

  it('packs the Ids of a one-hour window at a million logins a day far below 1 MiB, losslessly', () => {
    const rnd = seededRandom('packed login ids');
    // Salesforce-like Ids: sequential per pod, other orgs' records in between (gaps up to 5,000)
    const perHour = Math.ceil(1_000_000 / 24);
    const ids: string[] = [];
    let pos = 1_000_000 + Math.floor(rnd.next() * 1e8);
    const space = orgIdSpace(1 + Math.floor(rnd.next() * 1000));
    for (let i = 0; i < perHour; i++) ids.push(makeId('0Ya', (pos += 1 + Math.floor(rnd.next() * 5000)), space));
    ids.push('not-a-salesforce-id', '0Ya000000000001', '0Ya000000000001AAA');
    const packed = packIds(ids);
    expect(unpackIds(packed)).toEqual([...new Set(ids)].sort());

    const type = avroType(loadConnectorSchemas().runStateValue);
    const state = {
      ...newRunState('acme-salesforce', 'run-1', Date.now()),
      loginHistoryWatermark: Date.now(),
      loginHistoryRecentIdsPacked: packed,
    };
    const bytes = type.toBuffer(state).length;
    console.log(
      `state record with ${perHour} recent login Ids: ${bytes} bytes ` +
        `(${(bytes / perHour).toFixed(2)} per Id; the JSON list would be ${JSON.stringify(ids).length})`,
    );
    expect(bytes).toBeLessThan(256 * 1024);
    // the most Ids ever kept, at the same density, still fit with room to spare
    expect((bytes / perHour) * MAX_RECENT_IDS).toBeLessThan(768 * 1024);
  });
});
