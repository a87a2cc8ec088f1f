/**
 * LoginHistory is read incrementally on LoginTime. Each extraction reads from
 * `watermark − overlap` (inclusive), so an event committed late with a LoginTime slightly before
 * the last watermark is still found; the events the previous extraction already emitted inside
 * that overlap are dropped by Id. Only those ids — events with LoginTime within `overlap` of the
 * watermark — are remembered, never all ids: memory is O(logins per overlap window).
 *
 * The cursor is plain data so the run state can persist it and pass it back to the next run.
 */
import { FatalError } from '../../pipeline/core/errors';
import type { Row } from './csv-page';

export interface LoginCursor {
  /** Highest LoginTime emitted so far, ISO-8601 UTC. Never moves backwards. */
  watermark: string;
  /** Ids of the events with LoginTime ≥ watermark − overlap (what the next extraction re-reads). */
  recentIds: string[];
}

/** Where an extraction starts: watermark − overlap, or now − look-back on the first run. */
export function loginStart(watermark: Date | null, overlapMs: number, lookbackDays: number, nowMs: number): Date {
  return watermark ? new Date(watermark.getTime() - overlapMs) : new Date(nowMs - lookbackDays * 86_400_000);
}

export class LoginTracker {
  private maxMs: number;
  private readonly recent = new Map<string, number>();
  private pruneAt = 4096;
  private duplicates = 0;

  /**
   * @param previous the cursor of the previous extraction (null on the first run, or when only a
   *   bare watermark is known: then re-read events in the overlap are emitted again, which the
   *   idempotent sink absorbs).
   */
  constructor(
    private readonly previous: { watermarkMs: number; ids: ReadonlySet<string> } | null,
    private readonly overlapMs: number,
  ) {
    this.maxMs = previous ? previous.watermarkMs : -Infinity;
  }

  /** Tracks the row; false means it was already emitted by the previous extraction (drop it). */
  accept(row: Row): boolean {
    const t = Date.parse(row.LoginTime);
    if (!Number.isFinite(t)) {
      throw new FatalError('SALESFORCE_BAD_RESPONSE', `LoginHistory ${row.Id}: LoginTime ${JSON.stringify(row.LoginTime)} is not a datetime; the watermark can't be trusted`);
    }
    if (t > this.maxMs) this.maxMs = t;
    if (t >= this.maxMs - this.overlapMs) {
      this.recent.set(row.Id, t);
      if (this.recent.size >= this.pruneAt) this.prune();
    }
    if (this.previous?.ids.has(row.Id)) {
      this.duplicates++;
      return false;
    }
    return true;
  }

  private prune(): void {
    const floor = this.maxMs - this.overlapMs;
    for (const [id, t] of this.recent) if (t < floor) this.recent.delete(id);
    this.pruneAt = Math.max(4096, this.recent.size * 2);
  }

  /** Events dropped as already emitted. */
  duplicatesDropped(): number {
    return this.duplicates;
  }

  /** The cursor for the next extraction; null when nothing was ever seen. */
  cursor(): LoginCursor | null {
    if (!Number.isFinite(this.maxMs)) return null;
    this.prune();
    return { watermark: new Date(this.maxMs).toISOString(), recentIds: [...this.recent.keys()].sort() };
  }
}
