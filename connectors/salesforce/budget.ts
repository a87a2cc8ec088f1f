/**
 * API budget: Salesforce counts REST calls against an org-wide daily limit (rolling 24 h) and
 * reports the count on every response as `Sforce-Limit-Info: api-usage=USED/MAX`.
 *
 * The promise kept here: the extractor never makes a call that would take the org's usage past
 * `share × MAX`, so the rest of the budget stays for the org's other integrations and people.
 * It stops with a FatalError instead (the run is then incomplete: no deletions, no watermark move).
 * Before the first response nothing is known and calls go ahead.
 */
import { FatalError } from '../../pipeline/core/errors';

export interface ApiUsage {
  used: number;
  max: number;
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

export class ApiBudget {
  private last: ApiUsage | null = null;
  private inFlight = 0;
  private calls = 0;

  /** @param share fraction (0, 1] of the org's daily limit the usage may reach. */
  constructor(private readonly share: number) {}

  /** Reserves one call; throws SALESFORCE_API_BUDGET when it would pass the share. Pair with release(). */
  acquire(what: string): void {
    if (this.last) {
      const cap = Math.floor(this.last.max * this.share);
      if (this.last.used + this.inFlight + 1 > cap) {
        throw new FatalError(
          'SALESFORCE_API_BUDGET',
          `Stopped before ${what}: the org has used ${this.last.used} of its ${this.last.max} daily API requests, ` +
            `and this connector may only take it up to ${Math.round(this.share * 100)}% (apiBudgetShare=${this.share}). ` +
            'The run is incomplete and changes nothing; it resumes on a later run as the rolling 24 h window frees requests, ' +
            'or raise apiBudgetShare.',
        );
      }
    }
    this.inFlight++;
    this.calls++;
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
