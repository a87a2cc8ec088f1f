/**
 * Bulk API 2.0 query jobs: create, poll with backoff under a timeout, abort a stuck job, delete
 * finished ones. Creation is a POST that is never repeated blindly (see http.ts).
 */
import { FatalError } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import { dataPath, SalesforceHttp } from './http';

export type JobState = 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

export interface JobInfo {
  id: string;
  state: JobState;
  object?: string;
  numberRecordsProcessed?: number;
  /** When Salesforce created the job, its own clock (2024-05-01T10:20:30.000+0000). */
  createdDate?: string;
  retries?: number;
  totalProcessingTime?: number;
  apiVersion?: number | string;
  errorMessage?: string;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface JobSettings {
  apiVersion: string;
  jobTimeoutMs: number;
  pollInitialMs: number;
  pollMaxMs: number;
}

const TERMINAL = new Set<JobState>(['JobComplete', 'Failed', 'Aborted']);

/** The calls a job's cleanup may take (dispose: its status, abort, deletion), held by its creation. */
const CLEANUP_CALLS = 3;

export class BulkJobs {
  constructor(
    private readonly http: SalesforceHttp,
    private readonly settings: JobSettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  private path(rest = ''): string {
    return dataPath(this.settings.apiVersion, `/jobs/query${rest}`);
  }

  /** Creates a CSV query job (comma-delimited, LF line endings). */
  async create(soql: string, label: string): Promise<JobInfo> {
    const job = await this.http.json<JobInfo>({
      method: 'POST',
      path: this.path(),
      body: { operation: 'query', query: soql, contentType: 'CSV', columnDelimiter: 'COMMA', lineEnding: 'LF' },
      repeatable: false,
      what: `create the ${label} query job`,
      // its status, abort and deletion: a run the budget stops still deletes it (dispose)
      hold: CLEANUP_CALLS,
    });
    if (!job || typeof job.id !== 'string' || !/^[A-Za-z0-9]{15,18}$/.test(job.id)) {
      throw new FatalError(
        'SALESFORCE_BAD_RESPONSE',
        `Salesforce created the ${label} query job but returned no valid job id`,
      );
    }
    this.logger.info('Bulk query job created', { job: job.id, label });
    return job;
  }

  info(id: string, cleanup = false): Promise<JobInfo> {
    return this.http.json<JobInfo>({
      method: 'GET',
      path: this.path(`/${id}`),
      repeatable: true,
      what: `poll query job ${id}`,
      cleanup,
    });
  }

  /**
   * Polls until the job is JobComplete and returns its info. A Failed or Aborted job, or one still
   * running after jobTimeoutMs (which is then aborted), is a FatalError naming the job id.
   */
  async waitForCompletion(id: string, label: string, signal?: AbortSignal): Promise<JobInfo> {
    const deadline = this.clock.now() + this.settings.jobTimeoutMs;
    let delay = this.settings.pollInitialMs;
    for (;;) {
      const info = await this.info(id);
      if (info.state === 'JobComplete') return info;
      if (info.state === 'Failed' || info.state === 'Aborted') {
        throw new FatalError(
          'SALESFORCE_JOB_FAILED',
          `Bulk query job ${id} (${label}) ended in state ${info.state}` +
            (info.errorMessage ? `: ${info.errorMessage}` : ' (Salesforce gives no reason for failed query jobs)') +
            `; records processed: ${info.numberRecordsProcessed ?? 0}, retries: ${info.retries ?? 0}`,
        );
      }
      const left = deadline - this.clock.now();
      if (left <= 0) {
        await this.abort(id).catch((err: unknown) =>
          this.logger.warn('Could not abort the stuck query job', { job: id, error: (err as Error).message }),
        );
        throw new FatalError(
          'SALESFORCE_JOB_TIMEOUT',
          `Bulk query job ${id} (${label}) was still ${info.state} after ${this.settings.jobTimeoutMs} ` +
            `ms (jobTimeoutMs); it was aborted`,
        );
      }
      await this.clock.sleep(Math.min(delay, left), signal);
      delay = Math.min(this.settings.pollMaxMs, Math.ceil(delay * 1.5));
    }
  }

  abort(id: string, cleanup = false): Promise<void> {
    return this.http.json<void>({
      method: 'PATCH',
      path: this.path(`/${id}`),
      body: { state: 'Aborted' },
      repeatable: true,
      what: `abort query job ${id}`,
      cleanup,
    });
  }

  delete(id: string): Promise<void> {
    return this.http.json<void>({
      method: 'DELETE',
      path: this.path(`/${id}`),
      repeatable: true,
      what: `delete query job ${id}`,
      cleanup: true,
    });
  }

  /**
   * Best effort, never throws: aborts the job if it may still run, then deletes it (Salesforce
   * would keep it 7 days). A failure here costs nothing but storage, so it is only logged.
   */
  async dispose(id: string, lastKnown: JobState | undefined): Promise<void> {
    // the calls its creation held: those not made are given back, whatever happens
    let left = CLEANUP_CALLS;
    try {
      if (!lastKnown || !TERMINAL.has(lastKnown)) {
        left--;
        const info = await this.info(id, true);
        if (!TERMINAL.has(info.state)) {
          left--;
          await this.abort(id, true);
        }
      }
      left--;
      await this.delete(id);
      this.logger.debug('Bulk query job deleted', { job: id });
    } catch (err) {
      this.logger.warn('Could not delete the query job; Salesforce removes it after 7 days', {
        job: id,
        error: (err as Error).message,
      });
    } finally {
      this.http.unhold(Math.max(0, left));
    }
  }
}
