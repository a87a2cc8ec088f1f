/**
 * The completeness check that later allows deletions. A query job's extraction is complete only
 * when the job is JobComplete, every result page was read to its end (locator "null", or
 * resultPages done), no row failed to parse (a parse failure throws before this point) and the
 * rows read equal the job's numberRecordsProcessed. Anything else is a FatalError naming the job,
 * its state and the counts: never a partial "success".
 */
import { FatalError } from '../../kernel/errors';
import type { JobInfo } from './bulk-job';
import type { ResultsSummary } from './results';

export interface JobReport {
  id: string;
  /** What the job queried: 'User', 'UserLogin' or 'LoginHistory'. */
  object: string;
  state: string;
  numberRecordsProcessed: number;
  rowsRead: number;
  pages: number;
  /** Pages read again after a broken connection. */
  rereads: number;
  mode: ResultsSummary['mode'];
  /** The job's creation on Salesforce's clock (ISO), when its job info gives it. */
  createdDate?: string;
}

export function verifyJob(job: JobInfo, object: string, results: ResultsSummary): JobReport {
  const processed = job.numberRecordsProcessed;
  const report: JobReport = {
    id: job.id,
    object,
    state: job.state,
    numberRecordsProcessed: typeof processed === 'number' ? processed : NaN,
    rowsRead: results.rows,
    pages: results.pages,
    rereads: results.rereads,
    mode: results.mode,
    ...(typeof job.createdDate === 'string' && Number.isFinite(Date.parse(job.createdDate))
      ? { createdDate: new Date(Date.parse(job.createdDate)).toISOString() }
      : {}),
  };
  if (
    job.state !== 'JobComplete' ||
    typeof processed !== 'number' ||
    !Number.isInteger(processed) ||
    processed !== results.rows
  ) {
    throw new FatalError(
      'SALESFORCE_INCOMPLETE_RESULTS',
      `Bulk query job ${job.id} (${object}) is not a complete extraction: state ${job.state}, ` +
        `numberRecordsProcessed ${processed ?? 'missing'}, rows read ${results.rows} in ${results.pages} pages`,
    );
  }
  return report;
}
