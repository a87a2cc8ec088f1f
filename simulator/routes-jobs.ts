/**
 * /services/data/vXX.X/jobs/query…: Bulk API 2.0 query jobs — create, list, status, abort,
 * delete, results (CSV pages by locator) and resultPages (parallel page URLs, API 58.0+).
 */
import type { SimFault } from './api';
import { IncomingMessage, ServerResponse } from 'node:http';
import { QueryJob, JobTiming } from './bulk-job';
import { DELIMITERS } from './csv';
import { notFound, SfError } from './errors';
import { Faults } from './faults';
import { readBody, sendJson, sleep } from './http';
import { KeyPrefix, makeId, to18, isValidId } from './ids';
import { decodeLocator, encodeLocator, writePage } from './page-writer';
import { Schema } from './schema';
import { compileBulkQuery } from './soql-compile';
import { Store } from './store';
import { DataSource } from './table';

export interface JobsContext {
  store: Store;
  schema: Schema;
  faults: Faults;
  timing: JobTiming;
  defaultPageSize: number;
  apiUserId: string;
}

interface Entry {
  job: QueryJob;
  data: DataSource;
}

const CREATE_KEYS = new Set(['operation', 'query', 'contentType', 'columnDelimiter', 'lineEnding']);

export class QueryJobs {
  private readonly jobs = new Map<string, Entry>();
  private counter = 0;
  /** Every query job created, in order, with the rows its result holds (kept after the job is deleted). */
  readonly log: { object: string; query: string; rows: () => number }[] = [];
  /** The log entries of the jobs not yet deleted, by job id. */
  private readonly logged = new Map<string, { rows: () => number }>();

  constructor(private readonly ctx: JobsContext) {}

  /** Stops every job's background work. */
  close(): void {
    for (const { job } of this.jobs.values()) job.cancel();
  }

  /** The jobs not deleted (a client that leaks jobs leaves them here; Salesforce keeps them 7 days). */
  open(): { id: string; object: string; state: string }[] {
    return [...this.jobs.values()].map(({ job }) => ({ id: job.id, object: job.plan.object.name, state: job.state }));
  }

  /** Jobs created so far (for the daily job limit). */
  get count(): number {
    return this.counter;
  }

  /** Routes a request; `rest` is the path after /jobs/query, split on '/'. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    version: number,
    rest: string[],
    query: URLSearchParams,
    headers: Record<string, string>,
  ): Promise<void> {
    if (version < 47) throw notFound(); // Bulk API 2.0 query jobs exist from API 47.0
    const method = req.method ?? 'GET';
    if (rest.length === 0) {
      if (method === 'POST') return sendJson(res, 200, await this.create(req, version), headers);
      if (method === 'GET') return sendJson(res, 200, this.list(), headers);
      throw methodNotAllowed(method, 'GET,POST');
    }
    const entry = this.jobs.get(to18Safe(rest[0]));
    if (!entry) throw notFound();
    const { job } = entry;
    if (rest.length === 1) {
      if (method === 'GET') {
        job.poll();
        return sendJson(res, 200, job.info(), headers);
      }
      if (method === 'PATCH') return sendJson(res, 200, await this.abort(req, job), headers);
      if (method === 'DELETE') {
        if (!job.finished)
          throw new SfError(
            400,
            'API_ERROR',
            'Error encountered when deleting the job because the job is not terminated',
          );
        this.jobs.delete(job.id);
        const entry = this.logged.get(job.id);
        if (entry) {
          const rows = job.result.count;
          entry.rows = () => rows;
          this.logged.delete(job.id);
        }
        res.writeHead(204, headers);
        res.end();
        return;
      }
      throw methodNotAllowed(method, 'GET,PATCH,DELETE');
    }
    if (rest.length === 2 && (rest[1] === 'results' || rest[1] === 'resultPages')) {
      if (method !== 'GET') throw methodNotAllowed(method, 'GET');
      if (rest[1] === 'resultPages' && version < 58) throw notFound();
      // Results must be read with the API version that created the job.
      if (version !== job.settings.apiVersion) {
        throw new SfError(
          409,
          'INVALIDJOB',
          `Job ${job.id} was created with API version ${job.settings.apiVersion.toFixed(1)}; read its ` +
            `results with the same version (requested ${version.toFixed(1)})`,
        );
      }
      if (job.state !== 'JobComplete') {
        throw new SfError(
          412,
          'JOB_NOT_COMPLETE',
          `can only download query results of successfully completed bulk job with status: JOB_COMPLETE. ` +
            `Current status: ${stateName(job.state)}`,
        );
      }
      const max = parseMaxRecords(query.get('maxRecords'), this.ctx.defaultPageSize);
      const offset = parseLocator(query.get('locator'), job.result.count);
      if (rest[1] === 'resultPages')
        return sendJson(res, 200, this.resultPages(job, version, offset, max, query.has('maxRecords')), headers);
      return this.results(req, res, entry, offset, max, headers);
    }
    throw notFound();
  }

  private async create(req: IncomingMessage, version: number): Promise<Record<string, unknown>> {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      throw new SfError(400, 'JSON_PARSER_ERROR', 'The request body is not valid JSON');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new SfError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
    for (const k of Object.keys(body))
      if (!CREATE_KEYS.has(k)) throw new SfError(400, 'INVALIDJOB', `Unrecognized field "${k}"`);
    const {
      operation,
      query,
      contentType = 'CSV',
      columnDelimiter = 'COMMA',
      lineEnding = 'LF',
    } = body as Record<string, string>;
    if (operation !== 'query' && operation !== 'queryAll')
      throw new SfError(400, 'INVALIDJOB', `Invalid job operation: ${String(operation)}. Use query or queryAll`);
    if (typeof query !== 'string' || query.trim() === '')
      throw new SfError(400, 'INVALIDJOB', 'A query job needs a query');
    if (contentType !== 'CSV')
      throw new SfError(400, 'INVALIDJOB', `Invalid content type: ${String(contentType)}. Query jobs support CSV`);
    if (!(String(columnDelimiter) in DELIMITERS))
      throw new SfError(400, 'INVALIDJOB', `Invalid column delimiter: ${String(columnDelimiter)}`);
    if (lineEnding !== 'LF' && lineEnding !== 'CRLF')
      throw new SfError(400, 'INVALIDJOB', `Invalid line ending: ${String(lineEnding)}`);
    const plan = compileBulkQuery(query, this.ctx.schema, version);
    const fault = this.ctx.faults.takeFirst(['jobFails', 'jobStuck'], (f) => forObject(f, plan.object.name));
    const data = this.ctx.store.snapshot();
    const id = makeId(KeyPrefix.QueryJob, this.counter++);
    const job = new QueryJob(
      id,
      { operation, query, columnDelimiter, lineEnding, apiVersion: version, createdById: this.ctx.apiUserId },
      plan,
      data,
      this.ctx.timing,
      fault?.kind === 'jobFails' ? 'fail' : fault?.kind === 'jobStuck' ? 'stuck' : null,
      // one server clock: the store's stamps move one second per change and may run ahead of the wall
      Math.max(Date.now(), this.ctx.store.now()),
    );
    this.jobs.set(id, { job, data });
    // the entry reads the job's count while the job is kept; its DELETE fixes the count and lets the
    // job, its results and its snapshot's tables go (a log holding them grew the heap by a table a job)
    const entry = { object: plan.object.name, query, rows: () => job.result.count };
    this.log.push(entry);
    this.logged.set(id, entry);
    return job.createInfo();
  }

  private list(): Record<string, unknown> {
    const records = [...this.jobs.values()].map(({ job }) => ({ ...job.createInfo(), jobType: 'V2Query' }));
    return { done: true, records, nextRecordsUrl: null };
  }

  private async abort(req: IncomingMessage, job: QueryJob): Promise<Record<string, unknown>> {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      throw new SfError(400, 'JSON_PARSER_ERROR', 'The request body is not valid JSON');
    }
    if (body?.state !== 'Aborted')
      throw new SfError(
        400,
        'INVALIDJOBSTATE',
        `Invalid state for a query job update: ${String(body?.state)}. Only Aborted is allowed`,
      );
    if (job.finished)
      throw new SfError(400, 'INVALIDJOBSTATE', `Job ${job.id} is in state ${job.state} and cannot be aborted`);
    job.abort();
    return job.createInfo();
  }

  private resultPages(
    job: QueryJob,
    version: number,
    offset: number,
    max: number,
    explicitMax: boolean,
  ): Record<string, unknown> {
    const base = `/services/data/v${version.toFixed(1)}/jobs/query/${job.id}`;
    const url = (o: number, resource: string): string => {
      const q = new URLSearchParams();
      if (o > 0) q.set('locator', encodeLocator(o));
      if (explicitMax) q.set('maxRecords', String(max));
      const s = q.toString();
      return s ? `${base}/${resource}?${s}` : `${base}/${resource}`;
    };
    const pages: { resultUrl: string }[] = [];
    let o = offset;
    do {
      pages.push({ resultUrl: url(o, 'results') });
      o += max;
    } while (pages.length < 5 && o < job.result.count);
    const done = o >= job.result.count;
    return {
      resultPages: pages,
      nextRecordsUrl: done ? null : url(o, 'resultPages'),
      done,
    };
  }

  private async results(
    req: IncomingMessage,
    res: ServerResponse,
    entry: Entry,
    offset: number,
    max: number,
    headers: Record<string, string>,
  ): Promise<void> {
    const f = this.ctx.faults;
    const slow = f.take('slowPages');
    if (slow) await sleep(slow.delayMs);
    const object = entry.job.plan.object.name;
    const reset = f.take('resetMidPage', (x) => forObject(x, object)) !== undefined;
    const malformed = f.take('malformedCsv', (x) => forObject(x, object)) !== undefined;
    const gzip = /\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''));
    await writePage(res, entry.job, entry.data, { offset, max, gzip, headers, reset, malformed });
  }
}

function to18Safe(id: string): string {
  return isValidId(id) ? to18(id) : id;
}

function stateName(s: string): string {
  return s.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

function methodNotAllowed(method: string, allowed: string): SfError {
  return new SfError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are ${allowed}`);
}

function parseMaxRecords(v: string | null, dflt: number): number {
  if (v === null || v === '') return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new SfError(400, 'INVALID_MAXRECORDS', `Invalid maxRecords: ${v}. It must be a positive integer`);
  return Number(v);
}

function parseLocator(v: string | null, count: number): number {
  if (v === null || v === '') return 0;
  const o = decodeLocator(v);
  if (o === null || o > count) throw new SfError(400, 'INVALID_QUERY_LOCATOR', `Invalid locator: ${v}`);
  return o;
}

/** A fault with an `object` applies only to jobs on that sObject; without one, to any job. */
function forObject(fault: SimFault, object: string): boolean {
  return !('object' in fault) || fault.object === undefined || fault.object === object;
}
