import { createHash } from 'node:crypto';
import type { UsersReadState } from './run-state';

/**
 * Which users read a run makes (docs/configuration.md, usersFullScanEvery):
 *  - full: every selected user's full row (today's snapshot). Deletions: live − what it read.
 *  - incremental: an Id-only snapshot of the selection, the rows changed since the last watermark
 *    (minus the overlap), and the full rows of the few users the Id snapshot and UserLogin show
 *    need one. Deletions: live − the verified-complete Id snapshot, exactly as exact as a full read.
 * Incremental only when every condition for it holds; each other case names why it is full.
 */
export interface UsersReadPlan {
  kind: 'full' | 'incremental';
  /** Why, in words for the run summary and the log. */
  reason: string;
  /** Incremental: read the rows whose SystemModstamp is at or after this (epoch ms). */
  sinceMs?: number;
}

export interface PlanInput {
  /** What the last committed run recorded (null/undefined: nothing, e.g. state written before). */
  previous: UsersReadState | null | undefined;
  /** This run's shape digest (readShape). */
  shape: number;
  fullRepublish: boolean;
  /** The extractor's policy (undefined: it has none, or cannot read incrementally). */
  policy: { fullScanEveryMs: number; overlapMs: number } | undefined;
  /** The User fields read include SystemModstamp (the watermark's source). */
  hasModstamp: boolean;
  now: number;
}

export function planUsersRead(p: PlanInput): UsersReadPlan {
  return planIncrementalRead(p, {
    rows: 'users',
    singular: 'user',
    object: 'User',
    option: 'usersFullScanEvery',
    shape: 'the User fields, the mapping, the status selection or the user filter',
    extractor: 'the extractor reads users only in full',
  });
}

/** How a plan's reasons name what is read (users, or a declared stream's rows). */
export interface ReadPlanWords {
  /** What is read, plural: `users`, `permission-set-assignments rows`. */
  rows: string;
  /** One of them: `user`, `row`. */
  singular: string;
  /** The config option of the periodic full read. */
  option: string;
  /** What the shape digest covers, for the reason when it changed. */
  shape: string;
  /** The object read. */
  object: string;
  /** Why there is no policy. */
  extractor: string;
}

/**
 * The one rule for an incremental read (users, and the declared snapshot streams that declare
 * one, pipeline/streams/run-stream.ts): full unless every condition for reading only the changes holds.
 */
export function planIncrementalRead(p: PlanInput, w: ReadPlanWords): UsersReadPlan {
  const full = (reason: string): UsersReadPlan => ({ kind: 'full', reason });
  const singular = w.singular;
  if (!p.policy) return full(w.extractor);
  if (p.fullRepublish) return full(`fullRepublish: every ${singular} is read and published`);
  if (p.policy.fullScanEveryMs === 0) return full(`${w.option} is 0: every run reads every ${singular}`);
  if (!p.hasModstamp) return full(`SystemModstamp is not among the ${w.object} fields read: no watermark to read from`);
  if (!p.previous) return full(`no ${w.rows} watermark recorded yet (first run, or state written before)`);
  if (p.previous.shape !== p.shape) return full(`${w.shape} changed since the last run`);
  const age = p.now - p.previous.fullReadAt;
  if (age >= p.policy.fullScanEveryMs || age < 0)
    return full(`the last full read is ${duration(age)} old (${w.option} ${duration(p.policy.fullScanEveryMs)})`);
  const sinceMs = p.previous.watermark - p.policy.overlapMs;
  return {
    kind: 'incremental',
    reason:
      `the last full read is ${duration(age)} old (${w.option} ${duration(p.policy.fullScanEveryMs)}): ` +
      `${w.rows} changed since ${new Date(sinceMs).toISOString()} (watermark − ${duration(p.policy.overlapMs)})`,
    sinceMs,
  };
}

/** A 48-bit digest (exact in a double, and in the state's Avro long) of what makes two reads comparable. */
export function readShape(parts: unknown): number {
  return parseInt(createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12), 16);
}

function duration(ms: number): string {
  if (ms < 0) return `${duration(-ms)} in the future`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
