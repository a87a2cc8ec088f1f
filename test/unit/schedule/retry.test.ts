import { nextRun, plannedRetry, type Schedule } from '../../../pipeline/schedule';

const DAILY: Schedule = { repeats: 'daily', startTime: { hour: 2, minute: 0 }, timeZone: 'UTC', active: true };
const POLICY = { retries: 3, initialDelayMs: 5 * 60_000, maxDelayMs: 60 * 60_000 };
const slot = Date.parse('2026-06-02T02:00:00Z');
const next = (s: number) => nextRun(DAILY, s);

describe('the retry status shows', () => {
  it('the next attempt of a failed scheduled run, at its backoff', () => {
    const last = { status: 'failed' as const, scheduledFor: slot, attempt: 2, endedAt: slot + 20 * 60_000 };
    expect(plannedRetry(POLICY, last, next)).toEqual({ attempt: 3, at: slot + 30 * 60_000, slot });
  });

  it('nothing for a success, a run started by hand, no retries left, or a retry past the next slot', () => {
    const failed = { status: 'failed' as const, scheduledFor: slot, attempt: 1, endedAt: slot + 60_000 };
    expect(plannedRetry(POLICY, { ...failed, status: 'succeeded' }, next)).toBeNull();
    expect(plannedRetry(POLICY, { ...failed, scheduledFor: null, attempt: null }, next)).toBeNull();
    expect(plannedRetry(POLICY, { ...failed, attempt: 4 }, next)).toBeNull();
    expect(plannedRetry(POLICY, { ...failed, endedAt: slot + 24 * 3600_000 - 60_000 }, next)).toBeNull();
    expect(plannedRetry(POLICY, null, next)).toBeNull();
  });
});
