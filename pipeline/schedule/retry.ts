/**
 * Retries of a failed scheduled run within its slot. A run that failed (Salesforce down, the
 * broker restarting, the API budget's reserve reached) would otherwise wait for the next slot, a
 * whole day on a daily schedule. It is tried again after an exponential backoff, as long as the
 * retry starts before the next slot: retries never push into, or overlap, the next slot's run.
 * Pure: the scheduler and `status` compute the same plan.
 */
export interface RetryPolicy {
  /** Retries after the slot's first run (0 = never retry). */
  retries: number;
  /** Wait before the first retry, in ms; doubles for each further retry. */
  initialDelayMs: number;
  /** Longest wait between two attempts, in ms. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, initialDelayMs: 5 * 60_000, maxDelayMs: 60 * 60_000 };

/** The wait after failed attempt `attempt` (1 = the slot's first run). */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
}

/**
 * When attempt `attempt` (failed, ended at `endedAt`) is tried again, or null: no retries left,
 * or the retry would not start before `nextSlot` (null = the schedule never fires again).
 */
export function retryAt(policy: RetryPolicy, attempt: number, endedAt: number, nextSlot: number | null): number | null {
  if (attempt > policy.retries) return null;
  const at = endedAt + retryDelay(policy, attempt);
  return nextSlot === null || at < nextSlot ? at : null;
}

/** What `status` knows of the latest run (from the state topic). */
export interface LastRunInfo {
  status: 'running' | 'succeeded' | 'failed';
  endedAt: number | null;
  scheduledFor: number | null;
  attempt: number | null;
}

/**
 * The retry the scheduled service will start for the latest run, or null (it succeeded, was
 * started by hand, has no retries left or none fits before the next slot). `nextSlot` is the
 * schedule's first slot after the run's own.
 */
export function plannedRetry(
  policy: RetryPolicy,
  last: LastRunInfo | null,
  nextSlot: (slot: number) => number | null,
): { attempt: number; at: number; slot: number } | null {
  if (!last || last.status !== 'failed' || last.scheduledFor === null || last.attempt === null || last.endedAt === null)
    return null;
  const at = retryAt(policy, last.attempt, last.endedAt, nextSlot(last.scheduledFor));
  return at === null ? null : { attempt: last.attempt + 1, at, slot: last.scheduledFor };
}
