import { FatalError } from './core/errors';

/**
 * The deletion guard. "A user not imported this run is removed from Neurons" is only safe while
 * the run's filter and the org are sane: a wrong user-status filter, a broken permission or an
 * org answering with half its users would otherwise wipe Neurons. So a run that would delete
 * more than a share of the live users, or more than a count, deletes nothing and says why.
 */
export interface DeletionGuardOptions {
  /** Largest share of the live users one run may delete, 0..1 (default 0.25). */
  maxShare: number;
  /** Largest number of users one run may delete (default: no count limit). */
  maxCount?: number;
  /** Deletions up to this count always pass, whatever their share: small orgs (default 5). */
  alwaysAllowUpTo: number;
  /** Lets one run through the guard (`--allow-mass-delete`, or deletionGuard.override in config). */
  override: boolean;
}

export const DEFAULT_DELETION_GUARD: DeletionGuardOptions = { maxShare: 0.25, alwaysAllowUpTo: 5, override: false };

export interface GuardVerdict {
  allowed: boolean;
  /** Why deletions were refused, with the numbers and the override (undefined when allowed). */
  reason?: string;
}

/** Pure: decides whether `toDelete` of `live` users may be deleted. */
export function checkDeletions(toDelete: number, live: number, guard: DeletionGuardOptions): GuardVerdict {
  if (toDelete === 0 || guard.override || toDelete <= guard.alwaysAllowUpTo) return { allowed: true };
  const share = live === 0 ? 1 : toDelete / live;
  const overShare = share > guard.maxShare;
  const overCount = guard.maxCount !== undefined && toDelete > guard.maxCount;
  if (!overShare && !overCount) return { allowed: true };
  const limits = [`at most ${pct(guard.maxShare)} of the live users`];
  if (guard.maxCount !== undefined) limits.push(`at most ${guard.maxCount} users`);
  return {
    allowed: false,
    reason:
      `Deletion guard: this run would delete ${toDelete} of ${live} live users (${pct(share)}), ` +
      `more than the guard allows (${limits.join(' and ')}). No user was deleted. ` +
      `Check the User status filter and the connector's permissions; if the deletions are intended, ` +
      `run once with --allow-mass-delete (or deletionGuard.override: true) or raise deletionGuard.maxShare.`,
  };
}

/** The guard's refusal as an error, so the run fails visibly. */
export function guardError(reason: string): FatalError {
  return new FatalError('DELETION_GUARD', reason);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;
}
