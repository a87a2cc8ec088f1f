import { FatalError } from '../kernel/errors';

/**
 * The deletion guard. "A user not imported this run is removed from Neurons" is only safe while
 * the run's filter and the org are sane: a wrong user-status filter, a broken permission or an
 * org answering with half its users would otherwise wipe Neurons. So a run that would delete
 * more than a share of the live users, or more than a count, deletes nothing and says why.
 */
export interface DeletionGuardOptions {
  /** Largest share of the live users one run may delete, 0..1 (default 0.25). */
  maxShare: number;
  /** Largest number of users one run may delete, whatever else allows it: a hard cap (default: none). */
  maxCount?: number;
  /**
   * Deletions up to this count pass whatever their share (small orgs), but never half or more of the
   * live users (default 5).
   */
  alwaysAllowUpTo: number;
  /**
   * Lets this one run through the share limit (`--allow-mass-delete`); never from a config file, and
   * never past maxCount.
   */
  override: boolean;
}

export const DEFAULT_DELETION_GUARD: DeletionGuardOptions = { maxShare: 0.25, alwaysAllowUpTo: 5, override: false };

export interface GuardVerdict {
  allowed: boolean;
  /** Why deletions were refused, with the numbers and the override (undefined when allowed). */
  reason?: string;
}

/**
 * Pure: decides whether `toDelete` of `live` users may be deleted. In order: maxCount is a hard
 * cap (the override does not lift it); the one-run override lifts the share limit; the small-org
 * allowance passes a handful of deletions, but never half or more of the live users (3 of 4 is a
 * broken filter, not a small org); otherwise the share decides.
 */
export function checkDeletions(
  toDelete: number,
  live: number,
  guard: DeletionGuardOptions,
  noun: Noun = USERS,
): GuardVerdict {
  if (toDelete === 0) return { allowed: true };
  const share = live === 0 ? 1 : toDelete / live;
  if (guard.maxCount !== undefined && toDelete > guard.maxCount) {
    const fix = 'Raise deletionGuard.maxCount if the deletions are intended (--allow-mass-delete does not lift it).';
    return refuse(toDelete, live, share, guard, fix, noun);
  }
  if (guard.override) return { allowed: true };
  if (toDelete <= guard.alwaysAllowUpTo && toDelete * 2 < live) return { allowed: true };
  if (share <= guard.maxShare) return { allowed: true };
  const fix = 'If the deletions are intended, run once with --allow-mass-delete, or raise deletionGuard.maxShare.';
  return refuse(toDelete, live, share, guard, fix, noun);
}

/** What is deleted, for the message: users, or the records of a declared stream. */
export interface Noun {
  one: string;
  many: string;
  /** What to check first when the guard refuses. */
  check: string;
}

const USERS: Noun = {
  one: 'user',
  many: 'users',
  check: "Check the User status filter and the connector's permissions.",
};

function refuse(
  toDelete: number,
  live: number,
  share: number,
  guard: DeletionGuardOptions,
  fix: string,
  noun: Noun,
): GuardVerdict {
  const limits = [`at most ${pct(guard.maxShare)} of the live ${noun.many}`];
  if (guard.alwaysAllowUpTo > 0) limits.push(`up to ${guard.alwaysAllowUpTo} ${noun.many} if under half of them`);
  if (guard.maxCount !== undefined) limits.push(`never more than ${guard.maxCount} ${noun.many}`);
  return {
    allowed: false,
    reason:
      `Deletion guard: this run would delete ${toDelete} of ${live} live ${noun.many} (${pct(share)}), ` +
      `more than the guard allows (${limits.join('; ')}). No ${noun.one} was deleted. ` +
      `${noun.check} ${fix}`,
  };
}

/** The guard's refusal as an error, so the run fails visibly. */
export function guardError(reason: string): FatalError {
  return new FatalError('DELETION_GUARD', reason);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;
}
