/**
 * The results of a finished query job, streamed page by page:
 *  - API ≥ 58.0 and parallelPages > 1: the `resultPages` URLs, read `parallelPages` at a time,
 *    rows emitted in page order (deterministic);
 *  - otherwise sequentially by `Sforce-Locator` until the locator is the string "null".
 * Every page goes through readCsvPage (streaming parse, re-read on a broken connection).
 * The caller checks the totals against the job (integrity.ts).
 */
import { FatalError } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import { sleep } from '../../kernel/retry';
import type { JobInfo } from './bulk-job';
import type { PageContext, PageSource, PageSummary, Row } from './csv-page';
import { readCsvPage } from './csv-page';
import { dataPath, SalesforceHttp } from './http';
import { orderedConcurrent } from './ordered';

export interface ResultsOptions {
  apiVersion: string;
  pageSize: number | undefined;
  parallelPages: number;
  retryInitialMs: number;
  maxRereads: number;
}

export interface ResultsSummary {
  pages: number;
  rows: number;
  rereads: number;
  mode: 'locator' | 'resultPages';
}

/** Batches held ahead per parallel page (× 100 rows per batch). */
const BATCHES_AHEAD = 2;

interface ResultPagesBody {
  resultPages?: { resultUrl?: string }[];
  nextRecordsUrl?: string | null;
  nextRecordUrl?: string | null;
  done?: boolean;
}

export function usesResultPages(apiVersion: string, parallelPages: number): boolean {
  return parallelPages > 1 && Number(apiVersion) >= 58;
}

function asPath(url: string): string {
  return /^https?:\/\//i.test(url) || url.startsWith('/') ? url : `/${url}`;
}

export async function* jobResults(
  http: SalesforceHttp,
  job: JobInfo,
  columns: readonly string[],
  opts: ResultsOptions,
  logger: Logger,
  signal?: AbortSignal,
): AsyncGenerator<Row[], ResultsSummary, undefined> {
  const ctx: PageContext = {
    jobId: job.id,
    columns,
    logger,
    maxRereads: opts.maxRereads,
    signal,
    backoff: (attempt) =>
      sleep(Math.round(opts.retryInitialMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2)), signal),
  };
  const page = (path: string, label: string): PageSource => ({
    label,
    open: async () => {
      const res = await http.stream({
        method: 'GET',
        path,
        repeatable: true,
        accept: 'text/csv',
        what: `read ${label} of query job ${job.id}`,
        signal,
      });
      const count = res.headers.get('sforce-numberofrecords');
      return {
        chunks: res.chunks,
        recordCount: count !== null && /^\d+$/.test(count.trim()) ? Number(count) : null,
        nextLocator: res.headers.get('sforce-locator'),
      };
    },
  });

  const summaries: PageSummary[] = [];
  let mode: ResultsSummary['mode'];
  if (usesResultPages(opts.apiVersion, opts.parallelPages)) {
    mode = 'resultPages';
    const urls = resultPageUrls(http, job.id, opts.apiVersion, opts.pageSize, signal);
    const all = yield* orderedConcurrent(urls, opts.parallelPages, BATCHES_AHEAD, (url, i) =>
      readCsvPage(page(asPath(url), `page ${i + 1}`), ctx),
    );
    summaries.push(...all);
  } else {
    mode = 'locator';
    let locator: string | null = null;
    for (let n = 1; ; n++) {
      const q = new URLSearchParams();
      if (opts.pageSize) q.set('maxRecords', String(opts.pageSize));
      if (locator) q.set('locator', locator);
      const qs = q.toString();
      const path = dataPath(opts.apiVersion, `/jobs/query/${job.id}/results${qs ? `?${qs}` : ''}`);
      const s: PageSummary = yield* readCsvPage(page(path, `page ${n}`), ctx);
      summaries.push(s);
      const next = s.nextLocator?.trim();
      if (!next || next === 'null') break;
      if (next === locator)
        throw new FatalError(
          'SALESFORCE_BAD_RESPONSE',
          `Query job ${job.id}: Salesforce returned the same locator twice (${next})`,
        );
      locator = next;
    }
  }
  return {
    pages: summaries.length,
    rows: summaries.reduce((a, s) => a + s.rows, 0),
    rereads: summaries.reduce((a, s) => a + s.rereads, 0),
    mode,
  };
}

async function* resultPageUrls(
  http: SalesforceHttp,
  jobId: string,
  apiVersion: string,
  pageSize: number | undefined,
  signal?: AbortSignal,
): AsyncGenerator<string, void, undefined> {
  let next: string | null = dataPath(
    apiVersion,
    `/jobs/query/${jobId}/resultPages${pageSize ? `?maxRecords=${pageSize}` : ''}`,
  );
  while (next) {
    const body: ResultPagesBody = await http.json<ResultPagesBody>({
      method: 'GET',
      path: asPath(next),
      repeatable: true,
      what: `list result pages of query job ${jobId}`,
      signal,
    });
    if (!body || !Array.isArray(body.resultPages)) {
      throw new FatalError('SALESFORCE_BAD_RESPONSE', `Query job ${jobId}: the resultPages response lists no pages`);
    }
    for (const p of body.resultPages) {
      if (typeof p.resultUrl !== 'string' || p.resultUrl === '')
        throw new FatalError('SALESFORCE_BAD_RESPONSE', `Query job ${jobId}: a result page has no resultUrl`);
      yield p.resultUrl;
    }
    const following: string | null = body.nextRecordsUrl ?? body.nextRecordUrl ?? null;
    if (body.done === true) return;
    if (!following)
      throw new FatalError(
        'SALESFORCE_BAD_RESPONSE',
        `Query job ${jobId}: resultPages says more pages follow but gives no nextRecordsUrl`,
      );
    next = following;
  }
}
