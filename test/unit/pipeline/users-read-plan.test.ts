/**
 * Which users read a run makes: incremental only when every condition holds, full (with the
 * reason) otherwise; and the run state's users read survives the state record's encoding.
 */
import { planUsersRead, readShape, type PlanInput } from '../../../pipeline/users-read-plan';
import { packUsersRead, unpackUsersRead } from '../../../pipeline/state-codec';
import { newRunState } from '../../../pipeline/run-state';

const H = 3_600_000;
const base: PlanInput = {
  previous: { watermark: Date.parse('2026-11-26T10:00:00Z'), fullReadAt: 1_000 * H, shape: 42 },
  shape: 42,
  fullRepublish: false,
  policy: { fullScanEveryMs: 24 * H, overlapMs: 300_000 },
  hasModstamp: true,
  now: 1_010 * H,
};

describe('planUsersRead', () => {
  it('reads incrementally from the watermark minus the overlap when everything holds', () => {
    const p = planUsersRead(base);
    expect(p).toMatchObject({ kind: 'incremental', sinceMs: Date.parse('2026-11-26T09:55:00Z') });
    expect(p.reason).toMatch(/10h old .*usersFullScanEvery 24h/);
  });

  it.each<[string, Partial<PlanInput>, RegExp]>([
    ['no watermark', { previous: null }, /no users watermark/],
    ['another shape', { shape: 43 }, /fields, the mapping, the status selection or the user filter changed/],
    ['a full republish', { fullRepublish: true }, /fullRepublish/],
    ['usersFullScanEvery 0', { policy: { fullScanEveryMs: 0, overlapMs: 0 } }, /usersFullScanEvery is 0/],
    ['a due full read', { now: 1_024 * H }, /last full read is 24h old/],
    ['a clock behind the last full read', { now: 999 * H }, /in the future/],
    ['no SystemModstamp', { hasModstamp: false }, /SystemModstamp/],
    ['an extractor without incremental reads', { policy: undefined }, /only in full/],
  ])('reads in full on %s, saying why', (_, over, reason) => {
    const p = planUsersRead({ ...base, ...over });
    expect(p.kind).toBe('full');
    expect(p.reason).toMatch(reason);
  });

  it('digests a shape into a whole number a long holds exactly', () => {
    const a = readShape({ fields: ['Id', 'Title'] });
    expect(Number.isSafeInteger(a)).toBe(true);
    expect(readShape({ fields: ['Id', 'Title'] })).toBe(a);
    expect(readShape({ fields: ['Id', 'City'] })).not.toBe(a);
  });
});

describe('the users read in the state record', () => {
  it('round-trips beside the declared streams, and reads as absent from state written before', () => {
    const s = { ...newRunState('c', 'r', 1), streamWatermarks: { licences: 7 } };
    const usersRead = { watermark: 123_000, fullReadAt: 456, shape: 2 ** 47 + 5 };
    const packed = packUsersRead({ ...s, usersRead });
    expect(packed).not.toHaveProperty('usersRead');
    expect(unpackUsersRead(packed as typeof s)).toEqual({ ...s, usersRead });
    expect(unpackUsersRead(s)).toEqual({ ...s, usersRead: null });
    const none = { ...newRunState('c', 'r', 1) };
    expect(unpackUsersRead(packUsersRead({ ...none, usersRead }) as typeof none)).toEqual({ ...none, usersRead });
  });
});
