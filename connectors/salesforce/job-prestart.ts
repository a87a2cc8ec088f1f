/**
 * Query jobs created ahead of their read (issue 15): a run announces at its start the Bulk queries
 * it is going to read, in their order (SalesforceExtractor.prestart), and the next few of them are
 * kept created ahead of the reads, so Salesforce processes a job while the run loads its live index
 * or reads the one before. A read takes the job of its exact SOQL (the same statement, built by the
 * same code), or creates its own as before when there is none: a prestart changes when a job's
 * snapshot is taken (earlier, in the same order), never what is read or how it is verified.
 *
 * At most AHEAD jobs wait created and unread: each one created ahead is processed by Salesforce at
 * the same time as the others, and on the bench's 2 cores the simulator's processing competes with
 * the connector (every job of a 1M routine run created at once: 58 s → 66–70 s; see
 * docs/performance-s9-routine.md).
 *
 * No leak: a job never taken (the run failed, was stopped, or read something else) is aborted and
 * deleted by release(); every call goes through the same HTTP client, so the API budget counts them.
 */
import type { Logger } from '../../kernel/logger';
import type { BulkJobs, JobInfo } from './bulk-job';

/** Jobs kept created ahead of the reads, at most. */
export const AHEAD = 2;

export interface JobPrestart {
  readonly soql: string;
  /** The object read, for the job's label in logs and errors. */
  readonly object: string;
}

interface Planned extends JobPrestart {
  /** Its creation, once started (null: it failed, the read creates its own). */
  job?: Promise<JobInfo | null>;
  /** taken: a read owns it; passed: the reads went past it, it is never read; disposed: released. */
  state: 'planned' | 'created' | 'taken' | 'passed' | 'disposed';
}

export class PrestartedJobs {
  private plan: Planned[] = [];
  /** Reads are in the plan's order: the position after the last one taken. */
  private readAt = 0;
  /** The next planned job to create. */
  private nextCreate = 0;
  /** The creations, one after the other (the snapshots keep the reads' order; release waits for them). */
  private chain: Promise<unknown> = Promise.resolve();
  private released = false;
  /** The jobs the reads passed, being released (release waits for them). */
  private readonly disposals: Promise<void>[] = [];
  /**
   * A creation failed, or a read came before its job was created: that read creates its own job,
   * and no job is created ahead any more, so none can take its snapshot before that read's (the
   * snapshots stay in the reads' order: LoginHistory's before the users').
   */
  private stopped = false;

  constructor(
    private readonly jobs: BulkJobs,
    private readonly logger: Logger,
    private readonly ahead = AHEAD,
  ) {}

  /** The reads to come, in their order; the first `ahead` jobs are created now. */
  start(planned: readonly JobPrestart[]): void {
    if (this.released) return;
    this.plan = planned.map((p) => ({ ...p, state: 'planned' }));
    this.fill();
  }

  /**
   * The job created ahead for this SOQL (the read owns it from now on), or null: the read creates
   * its own. A read not planned (by Id) changes nothing; a planned one passes every job before it.
   */
  async take(soql: string): Promise<JobInfo | null> {
    const i = this.plan.findIndex((p, k) => k >= this.readAt && p.soql === soql && p.state !== 'taken');
    if (i < 0) return null;
    for (let k = this.readAt; k < i; k++) {
      const passed = this.plan[k];
      if (passed.state === 'taken') continue;
      // never read: released now, so no more than `ahead` jobs run unread in the org at once
      if (passed.state === 'created') this.disposals.push(this.dispose(passed));
      else passed.state = 'passed';
    }
    this.readAt = i + 1;
    this.nextCreate = Math.max(this.nextCreate, this.readAt);
    const p = this.plan[i];
    const job = p.state === 'created' ? p.job! : null;
    p.state = job ? 'taken' : 'passed';
    if (!job) this.stopped = true;
    this.fill();
    return job ? await job : null;
  }

  /** Aborts and deletes every job created ahead and not taken (best effort: dispose never throws). */
  async release(): Promise<void> {
    this.released = true;
    await this.chain;
    const left = this.plan.filter((p) => p.job && (p.state === 'created' || p.state === 'passed'));
    for (const p of left) await this.dispose(p);
    await Promise.all(this.disposals.splice(0));
  }

  /** Aborts and deletes a job created ahead that no read takes (dispose never throws). */
  private async dispose(p: Planned): Promise<void> {
    p.state = 'disposed';
    const job = await p.job;
    if (!job) return;
    this.logger.info('query job created ahead and not read: aborted and deleted', { job: job.id });
    await this.jobs.dispose(job.id, undefined);
  }

  /** Creates the next planned jobs while fewer than `ahead` wait unread. */
  private fill(): void {
    const waiting = () => this.plan.filter((p, k) => k >= this.readAt && p.state === 'created').length;
    while (!this.released && !this.stopped && this.nextCreate < this.plan.length && waiting() < this.ahead) {
      const p = this.plan[this.nextCreate++];
      p.state = 'created';
      p.job = this.chain.then(async (): Promise<JobInfo | null> => {
        if (this.released || this.stopped) return null;
        try {
          return await this.jobs.create(p.soql, p.object);
        } catch (err) {
          this.stopped = true;
          this.logger.warn('could not create a query job ahead of its read; the read creates its own', {
            object: p.object,
            error: (err as Error).message,
          });
          return null;
        }
      });
      this.chain = p.job;
    }
  }
}
