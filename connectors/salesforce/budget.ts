/**
 * API budget: Salesforce counts REST calls against an org-wide daily limit (rolling 24 h) and
 * reports the count on every response as `Sforce-Limit-Info: api-usage=USED/MAX`.
 *
 * The promise kept here is about what this connector may take, not about the org's own load: a
 * call goes ahead unless it would leave the org fewer remaining requests than the reserve
 * (`reserve × MAX`, default 10 %), so the org's other integrations and people always keep that
 * much. Optional caps on top: `share` (the org's usage may not pass share × MAX) and `maxCalls`
 * (this connector's own calls per extractor). Past a limit it stops with a FatalError (the run is
 * then incomplete: no deletions, no watermark move). Before the first response nothing is known
 * and calls go ahead. Every call is counted, retries included, and reported.
 */
import { FatalError } from '../../kernel/errors';

export interface ApiUsage {
  used: number;
  max: number;
}

export interface BudgetLimits {
  /** Fraction [0, 0.9] of the org's daily limit that must stay unused (default 0.1). */
  reserve: number;
  /** Optional: fraction (0, 1] of the daily limit the org's usage may reach. */
  share?: number;
  /** Optional: most calls this connector makes. */
  maxCalls?: number;
}

/** Parses `api-usage=25/15000` (other entries such as `per-app-api-usage=…` are ignored). */
export function parseLimitInfo(header: string | null | undefined): ApiUsage | null {
  if (!header) return null;
  const m = /(?:^|[\s,;])api-usage=(\d+)\/(\d+)/.exec(header);
  if (!m) return null;
  const used = Number(m[1]);
  const max = Number(m[2]);
  return max > 0 ? { used, max } : null;
}

const STOPPED =
  'The run is incomplete and changes nothing; it resumes on a later run as the rolling 24 h window frees requests';

export class ApiBudget {
  private last: ApiUsage | null = null;
  private inFlight = 0;
  private calls = 0;
  /** Calls kept for cleanup (acquire's `hold`), not yet used or given back. */
  private held = 0;

  constructor(private readonly limits: BudgetLimits) {}

  /**
   * Reserves one call; throws SALESFORCE_API_BUDGET when it would pass a limit. Pair with release().
   * Room is kept for the calls that release what this connector created in the org: a call that
   * creates a query job holds `hold` more (its status, abort and deletion), which only `cleanup`
   * calls may use, so a run the budget stops still deletes its jobs within the budget.
   */
  acquire(what: string, need: { cleanup?: boolean; hold?: number } = {}): void {
    const { reserve, share, maxCalls } = this.limits;
    const extra = need.cleanup ? 0 : this.held + (need.hold ?? 0);
    const kept = this.held > 0 ? ` (${this.held} more kept to delete the query jobs it created)` : '';
    if (maxCalls !== undefined && this.calls + 1 + extra > maxCalls) {
      this.stop(
        `Stopped before ${what}: this connector made ${this.calls} calls${kept}, ` +
          `its limit (apiMaxCalls=${maxCalls}). ` +
          `${STOPPED}, or raise apiMaxCalls.`,
      );
    }
    if (this.last) {
      const { used, max } = this.last;
      const after = used + this.inFlight + 1 + extra;
      const keep = Math.ceil(max * reserve);
      if (max - after < keep) {
        this.stop(
          `Stopped before ${what}: the org has used ${used} of its ${max} daily API requests, ` +
            `and this connector must keep ${keep} of the org's ${max} daily API requests free ` +
            `(apiReserve=${reserve}); this connector made ${this.calls} calls in this run. ` +
            `${STOPPED}, or lower apiReserve.`,
        );
      }
      if (share !== undefined && after > Math.floor(max * share)) {
        this.stop(
          `Stopped before ${what}: the org has used ${used} of its ${max} daily API requests, ` +
            `and this connector may only take it up to ${Math.round(share * 100)}% (apiBudgetShare=${share}); ` +
            `this connector made ${this.calls} calls in this run. ` +
            `${STOPPED}, or raise apiBudgetShare.`,
        );
      }
    }
    this.inFlight++;
    this.calls++;
    if (need.cleanup) this.held = Math.max(0, this.held - 1);
    this.held += need.hold ?? 0;
  }

  /** Gives back room held for cleanup calls that were not needed (a job deleted without its abort). */
  unhold(calls: number): void {
    this.held = Math.max(0, this.held - calls);
  }

  private stop(message: string): never {
    throw new FatalError('SALESFORCE_API_BUDGET', message);
  }

  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** Records the usage a response reported; the highest seen wins (responses can arrive out of order). */
  observe(header: string | null | undefined): void {
    const u = parseLimitInfo(header);
    if (!u) return;
    if (!this.last || u.max !== this.last.max || u.used >= this.last.used) this.last = u;
  }

  /** Latest usage reported by Salesforce (null before any response carried it). */
  usage(): ApiUsage | null {
    return this.last ? { ...this.last } : null;
  }

  /** Calls this extractor made (attempts included). */
  callsMade(): number {
    return this.calls;
  }
}
