/**
 * A Bulk API 2.0 query job. Its query runs against the snapshot taken at creation. State:
 * UploadComplete → InProgress → JobComplete (or Failed / Aborted). The state moves only when
 * the client polls (GET the job): the first poll sees InProgress, and a later poll sees
 * JobComplete once the counting pass is done, `pollsBeforeComplete` polls have seen
 * InProgress and `minProcessingMs` have passed. Tests never wait on a fixed sleep.
 */
import { ResultSet } from './resultset';
import { QueryPlan } from './soql-compile';
import { DataSource } from './table';

export type JobState = 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

export interface JobSettings {
  operation: 'query' | 'queryAll';
  query: string;
  columnDelimiter: string;
  lineEnding: 'LF' | 'CRLF';
  apiVersion: number;
  createdById: string;
}

export interface JobTiming {
  pollsBeforeComplete: number;
  minProcessingMs: number;
}

/** Salesforce's job timestamps: 2024-05-01T10:20:30.000+0000 */
const sfDate = (ms: number): string => new Date(ms).toISOString().replace('Z', '+0000');

export class QueryJob {
  state: JobState = 'UploadComplete';
  readonly result: ResultSet;
  /** Wall-clock times: the job's processing runs on them. */
  private readonly createdMs = Date.now();
  private modifiedMs = this.createdMs;
  /** The createdDate the job reports: the org's clock (see the constructor). */
  private readonly createdDateMs: number;
  private polls = 0;
  private prepared = false;
  private processingMs = 0;
  private cancelled = false;

  constructor(
    readonly id: string,
    readonly settings: JobSettings,
    readonly plan: QueryPlan,
    data: DataSource,
    private readonly timing: JobTiming,
    /** Injected fault: the job ends Failed, or never leaves InProgress. */
    private readonly fault: 'fail' | 'stuck' | null,
    /** The org's clock when the job is created (never earlier than a SystemModstamp it wrote). */
    nowMs: number = Date.now(),
  ) {
    this.createdDateMs = nowMs;
    this.result = new ResultSet(plan, data);
    const started = Date.now();
    this.result
      .prepare(() => this.state === 'Aborted' || this.cancelled)
      .then(
        () => {
          this.prepared = true;
          this.processingMs = Date.now() - started;
        },
        () => {
          this.state = 'Failed';
        },
      );
  }

  get finished(): boolean {
    return this.state === 'JobComplete' || this.state === 'Failed' || this.state === 'Aborted';
  }

  /** A status poll: advances the state machine, then reports. */
  poll(): void {
    if (this.finished) return;
    this.polls++;
    if (this.state === 'UploadComplete') {
      this.setState('InProgress');
      return;
    }
    if (this.fault === 'stuck' || !this.prepared) return;
    if (this.polls <= this.timing.pollsBeforeComplete || Date.now() - this.createdMs < this.timing.minProcessingMs)
      return;
    this.setState(this.fault === 'fail' ? 'Failed' : 'JobComplete');
  }

  abort(): void {
    this.setState('Aborted');
  }

  /** Stops background work (the simulator is closing). */
  cancel(): void {
    this.cancelled = true;
  }

  private setState(s: JobState): void {
    this.state = s;
    this.modifiedMs = Date.now();
  }

  /** JobInfo as POST (create) returns it. */
  createInfo(): Record<string, unknown> {
    const s = this.settings;
    return {
      id: this.id,
      operation: s.operation,
      object: this.plan.object.name,
      createdById: s.createdById,
      createdDate: sfDate(this.createdDateMs),
      systemModstamp: sfDate(Math.max(this.modifiedMs, this.createdDateMs)),
      state: this.state,
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: s.apiVersion,
      lineEnding: s.lineEnding,
      columnDelimiter: s.columnDelimiter,
    };
  }

  /** JobInfo as GET returns it. A failed query job carries no error message. */
  info(): Record<string, unknown> {
    return {
      ...this.createInfo(),
      jobType: 'V2Query',
      numberRecordsProcessed: this.state === 'JobComplete' ? this.result.count : 0,
      retries: 0,
      totalProcessingTime: this.state === 'JobComplete' ? this.processingMs : 0,
      isPkChunkingSupported: false,
    };
  }
}
