/**
 * LoginHistory is read incrementally on LoginTime, with a look-back window: each extraction reads
 * from `watermark − window` (inclusive), so an event Salesforce makes visible late, with a
 * LoginTime up to `window` before the last watermark, is still found; the events the previous
 * extraction already emitted inside that window are dropped by Id. Only those Ids (events with
 * LoginTime ≥ watermark − window) are remembered, never all Ids: memory and the state record are
 * O(logins per window), and at most MAX_RECENT_IDS (the oldest beyond it are forgotten: they may
 * be emitted twice, which the sink's upsert by Id absorbs, but none is lost).
 *
 * The watermark never passes the extraction's own start: a LoginTime in the future (a bad clock)
 * does not move it, so later events are not skipped. LoginTime is read as UTC whatever the
 * host's time zone (a value without a zone is UTC, as Salesforce's API datetimes are).
 *
 * The cursor is plain data so the run state can persist it and pass it back to the next run.
 */
import { readBulkDatetime } from '../../kernel/bulk-datetime';
import { FatalError } from '../../kernel/errors';
import type { Row } from './csv-page';

export interface LoginCursor {
  /** Highest LoginTime emitted so far, at most the extraction's start; ISO-8601 UTC. Never moves backwards. */
  watermark: string;
  /** Ids of the events with LoginTime ≥ watermark − window (what the next extraction re-reads). */
  recentIds: string[];
}

/** Ids remembered at most: about 400 KiB packed in the state record (see pipeline/login-ids.ts). */
export const MAX_RECENT_IDS = 150_000;

/** Where an extraction starts: watermark − window, or now − look-back on the first run. A watermark in the
 *  future counts as now. */
export function loginStart(watermark: Date | null, overlapMs: number, lookbackDays: number, nowMs: number): Date {
  return watermark
    ? new Date(Math.min(watermark.getTime(), nowMs) - overlapMs)
    : new Date(nowMs - lookbackDays * 86_400_000);
}

const PARTS = new Int32Array(7);
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** An API datetime as epoch ms, in UTC whatever the host's zone (no zone given = UTC); NaN if it is none. */
export function parseUtc(text: string): number {
  // the Bulk form of every LoginTime, read by character code (kernel/bulk-datetime.ts); the regex for the rest
  if (readBulkDatetime(text, PARTS))
    return Date.UTC(PARTS[0], PARTS[1] - 1, PARTS[2], PARTS[3], PARTS[4], PARTS[5], PARTS[6]);
  const m = ISO.exec(text);
  if (!m) return NaN;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const zone = m[8];
  if (!zone || zone === 'Z') return t;
  const digits = zone.slice(1).replace(':', '');
  const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return t - (zone[0] === '-' ? -offset : offset) * 60_000;
}

export class LoginTracker {
  private maxMs: number;
  private readonly recent = new Map<string, number>();
  private pruneAt = 4096;
  private duplicates = 0;

  /**
   * @param previous the cursor of the previous extraction (null on the first run, or when only a
   *   bare watermark is known: then re-read events in the window are emitted again, which the
   *   idempotent sink absorbs).
   * @param capMs the extraction's start: the watermark never passes it.
   */
  constructor(
    private readonly previous: { watermarkMs: number; ids: ReadonlySet<string> } | null,
    private readonly overlapMs: number,
    private readonly capMs = Number.POSITIVE_INFINITY,
  ) {
    this.maxMs = previous ? Math.min(previous.watermarkMs, capMs) : -Infinity;
  }

  private get watermarkMs(): number {
    return Math.min(this.maxMs, this.capMs);
  }

  /**
   * The earliest LoginTime the next extraction reads again: its query's `LoginTime >=` bound, which
   * SOQL writes to the whole second (soqlDateTime rounds down). Every event from there on is
   * remembered, or an event in that second before the millisecond bound would be read again and
   * published twice (with loginOverlapMs 0 most visibly).
   */
  private get rereadFromMs(): number {
    return Math.floor((this.watermarkMs - this.overlapMs) / 1000) * 1000;
  }

  /** Tracks the row; false means it was already emitted by the previous extraction (drop it). */
  accept(row: Row): boolean {
    const t = parseUtc(row.LoginTime);
    if (!Number.isFinite(t)) {
      throw new FatalError(
        'SALESFORCE_BAD_RESPONSE',
        `LoginHistory ${row.Id}: LoginTime ${JSON.stringify(row.LoginTime)} is not a datetime; the ` +
          `watermark can't be trusted`,
      );
    }
    if (t > this.maxMs) this.maxMs = t;
    if (t >= this.rereadFromMs) {
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
    const floor = this.rereadFromMs;
    for (const [id, t] of this.recent) if (t < floor) this.recent.delete(id);
    if (this.recent.size > MAX_RECENT_IDS) {
      // keep the newest: forgetting an old Id can only re-emit that event, never lose one
      const kept = [...this.recent].sort((a, b) => b[1] - a[1]).slice(0, MAX_RECENT_IDS);
      this.recent.clear();
      for (const [id, t] of kept) this.recent.set(id, t);
    }
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
    return { watermark: new Date(this.watermarkMs).toISOString(), recentIds: [...this.recent.keys()].sort() };
  }
}
