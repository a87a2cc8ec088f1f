/**
 * Query jobs created ahead of their read (issue 15): a run announces at its start the Bulk queries
 * it is going to read (SalesforceExtractor.prestart), and they are created then, one after the other
 * in the order the run reads them, so Salesforce processes them while the run loads its live index
 * and reads the earlier ones. A read takes the job of its exact SOQL (the same statement, built by
 * the same code), or creates its own as before when there is none: a prestart changes when a job's
 * snapshot is taken (earlier, in the same order), never what is read or how it is verified.
 *
 * No leak: a job never taken (the run failed, was stopped, or read something else) is aborted and
 * deleted by release(); every call goes through the same HTTP client, so the API budget counts them.
 */
import type { Logger } from '../../kernel/logger';
import type { BulkJobs, JobInfo } from './bulk-job';

export interface JobPrestart {
  readonly soql: string;
  /** The object read, for the job's label in logs and errors. */
  readonly object: string;
}

export class PrestartedJobs {
  /** By SOQL, in creation order: the jobs created (or being created) and not yet taken. */
  private readonly waiting = new Map<string, Promise<JobInfo | null>[]>();
  /** The creations still chained (release waits for them: a job created after release would leak). */
  private chain: Promise<unknown> = Promise.resolve();
  private released = false;

  constructor(
    private readonly jobs: BulkJobs,
    private readonly logger: Logger,
  ) {}

  /**
   * Creates these jobs one after the other, in this order (their snapshots are taken in the order
   * the reads would have taken them). A creation that fails is logged and left to the read, which
   * creates its own job as it would have without a prestart.
   */
  start(planned: readonly JobPrestart[]): void {
    for (const p of planned) {
      if (this.released) return;
      const created = this.chain.then(async (): Promise<JobInfo | null> => {
        if (this.released) return null;
        try {
          return await this.jobs.create(p.soql, p.object);
        } catch (err) {
          this.logger.warn('could not create a query job ahead of its read; the read creates its own', {
            object: p.object,
            error: (err as Error).message,
          });
          return null;
        }
      });
      this.chain = created;
      const queue = this.waiting.get(p.soql) ?? [];
      queue.push(created);
      this.waiting.set(p.soql, queue);
    }
  }

  /** The job created ahead for this SOQL (the read owns it from now on), or null: the read creates its own. */
  async take(soql: string): Promise<JobInfo | null> {
    const queue = this.waiting.get(soql);
    const next = queue?.shift();
    if (queue?.length === 0) this.waiting.delete(soql);
    return next ? await next : null;
  }

  /** Aborts and deletes every job created ahead and not taken (best effort: dispose never throws). */
  async release(): Promise<void> {
    this.released = true;
    await this.chain;
    const left = [...this.waiting.values()].flat();
    this.waiting.clear();
    for (const p of left) {
      const job = await p;
      if (!job) continue;
      this.logger.info('query job created ahead and not read: aborted and deleted', { job: job.id });
      await this.jobs.dispose(job.id, undefined);
    }
  }
}
