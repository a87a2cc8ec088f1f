/**
 * One result page, streamed: the body goes through a streaming CSV parser (csv-parser.ts) and
 * rows come out in small batches; a page is never held whole in memory.
 *
 * Re-reading: a page GET (by locator or resultUrl) is idempotent, so when the connection breaks
 * in the middle of a page, the page is requested again and the rows already handed out are
 * skipped by position. The last handed-out row is compared with the row at the same position in
 * the re-read, so a re-read that does not reproduce the page fails instead of duplicating or
 * losing rows. A row is counted as handed out only once its batch has been yielded.
 *
 * Integrity: the header must list exactly the requested columns; every record must have that
 * many fields; the number of rows must equal the page's Sforce-NumberOfRecords; a CSV error is a
 * FatalError (SALESFORCE_CSV_MALFORMED) naming the job, never a silently shorter result.
 */
import { FatalError, isRetriable } from '../../kernel/errors';
import { sameStrings, shapeBuilder } from '../../kernel/fixed-shape';
import type { Logger } from '../../kernel/logger';
import { CsvParser, CsvSyntaxError } from './csv-parser';

/** A raw row: Salesforce field name (dotted for relationships) → value exactly as in the CSV. */
export type Row = Record<string, string>;

export interface PageResponse {
  chunks: AsyncIterable<Uint8Array>;
  /** Sforce-NumberOfRecords, when the response carried it. */
  recordCount: number | null;
  /** Sforce-Locator of the response ('null' on the last page), when present. */
  nextLocator: string | null;
}

export interface PageSource {
  /** For messages: "page 3". */
  label: string;
  /** Requests the page (again). */
  open(): Promise<PageResponse>;
}

export interface PageContext {
  jobId: string;
  columns: readonly string[];
  logger: Logger;
  /** Re-reads allowed after a broken connection (default 5). */
  maxRereads?: number;
  /**
   * Rows per yielded batch (default: about 4,000 values, 20 to 100 rows: 22 rows of a User's ~175
   * columns, 100 of narrow rows). Few wide rows, so that a row is published before V8's young
   * generation is collected twice: a User row parsed and left waiting behind ~100 others (~5 MB of
   * allocation; the image's semi-space is 4 MB) was promoted to the old generation with its values and
   * the page's text (a first full run at 20k users: 260 MB promoted with batches of 100, ~100 MB with
   * 20; docs/performance-s10-cpu.md). Narrow rows (Id snapshots) stay in batches of 100: they are
   * small, and a batch is an async step. (RowStream's highWaterMark at 20 too made the routine run
   * slower, 40 -> 50 µs a user at 100k: left at 100.)
   */
  batchSize?: number;
  /** Wait before a re-read, by attempt (1-based), in ms. */
  backoff?: (attempt: number) => Promise<void>;
  signal?: AbortSignal;
}

export interface PageSummary {
  label: string;
  rows: number;
  rereads: number;
  nextLocator: string | null;
}

/** Longest CSV record accepted (bytes): a broken quote can't make the parser buffer a whole page. */
const MAX_RECORD_BYTES = 8 * 1024 * 1024;

/**
 * Streams the body through the CSV parser: each network chunk is parsed as it arrives and the
 * records it completes come out at once, in one array (no per-record async hop). Memory is one
 * chunk plus the unfinished record. Errors (CsvSyntaxError, or the body's TransportError) throw.
 */
async function* csvRecords(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string[][], void, undefined> {
  const parser = new CsvParser({ maxRecordBytes: MAX_RECORD_BYTES });
  for await (const chunk of chunks) {
    const records = parser.push(chunk);
    if (records.length > 0) yield records;
  }
  const rest = parser.end();
  if (rest.length > 0) yield rest;
}

/**
 * A function that turns a record of `columns` into its Row. Rows of ~180 columns built property
 * by property on `{}` become dictionary-mode objects in V8 (hash lookups, and every for-in or
 * Object.keys sorts the keys); kernel/fixed-shape.ts compiles a constructor once per column list,
 * so every row has one hidden class with its values in the object (bench/row-shape.ts: the hash,
 * the flag stage's key list and the column reads of a row take 1.8x less). Every page of a query
 * shares the hidden class (code downstream sees one row shape, not one per page).
 */
export function rowBuilder(columns: readonly string[]): (rec: readonly string[]) => Row {
  return shapeBuilder<Row>(columns);
}

export async function* readCsvPage(
  source: PageSource,
  ctx: PageContext,
): AsyncGenerator<Row[], PageSummary, undefined> {
  const maxRereads = ctx.maxRereads ?? 5;
  const batchSize = ctx.batchSize ?? Math.max(20, Math.min(100, Math.floor(4000 / ctx.columns.length)));
  const columns = ctx.columns;
  const toRow = rowBuilder(columns);
  const where = `query job ${ctx.jobId}, result ${source.label}`;
  let handedOut = 0;
  let lastHandedOut: string[] | null = null;
  let rereads = 0;

  for (;;) {
    const res = await source.open();
    let header: string[] | null = null;
    let index = 0;
    let batch: Row[] = [];
    let batchLast: string[] | null = null;
    try {
      for await (const recs of csvRecords(res.chunks))
        for (const rec of recs) {
          if (!header) {
            header = rec;
            if (
              !sameStrings(
                rec.map((h) => h.toLowerCase()),
                columns.map((c) => c.toLowerCase()),
              )
            ) {
              throw new FatalError(
                'SALESFORCE_UNEXPECTED_COLUMNS',
                `${where}: the CSV header does not list the requested columns (got ${rec.length} columns, ` +
                  `expected ${columns.length})`,
              );
            }
            continue;
          }
          index++;
          if (rec.length !== columns.length) {
            throw new FatalError(
              'SALESFORCE_CSV_MALFORMED',
              `${where}: record ${index} has ${rec.length} fields, expected ${columns.length}`,
            );
          }
          if (index <= handedOut) {
            if (index === handedOut && lastHandedOut && !sameStrings(rec, lastHandedOut)) {
              throw new FatalError(
                'SALESFORCE_REREAD_MISMATCH',
                `${where}: the re-read page differs from the first read at record ${index}; refusing to guess ` +
                  `which rows were already emitted`,
              );
            }
            continue;
          }
          batch.push(toRow(rec));
          batchLast = rec;
          if (batch.length >= batchSize) {
            handedOut += batch.length;
            lastHandedOut = batchLast;
            const out = batch;
            batch = [];
            yield out;
          }
        }
      if (batch.length > 0) {
        handedOut += batch.length;
        lastHandedOut = batchLast;
        yield batch;
      }
      if (index < handedOut) {
        throw new FatalError(
          'SALESFORCE_REREAD_MISMATCH',
          `${where}: the re-read page has ${index} records, fewer than the ${handedOut} already emitted`,
        );
      }
      if (res.recordCount !== null && index !== res.recordCount) {
        throw new FatalError(
          'SALESFORCE_INCOMPLETE_RESULTS',
          `${where}: read ${index} records but Sforce-NumberOfRecords says ${res.recordCount}`,
        );
      }
      return { label: source.label, rows: index, rereads, nextLocator: res.nextLocator };
    } catch (err) {
      if (err instanceof CsvSyntaxError) {
        throw new FatalError(
          'SALESFORCE_CSV_MALFORMED',
          `${where}: the CSV cannot be parsed after record ${index} (${err.code}: ${err.message.slice(0, 160)})`,
          { cause: err },
        );
      }
      if (!isRetriable(err) || rereads >= maxRereads || ctx.signal?.aborted) throw err;
      rereads++;
      ctx.logger.warn('Result page broke off; reading it again', {
        job: ctx.jobId,
        page: source.label,
        rowsAlreadyEmitted: handedOut,
        reread: rereads,
        error: (err as Error).message,
      });
      await ctx.backoff?.(rereads);
    }
  }
}
