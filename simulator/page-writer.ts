/**
 * Streams one page of a query job's results as CSV, generating rows as it goes and waiting
 * whenever the socket (or gzip) buffer is full, so a page costs O(buffer), not O(page).
 * Also where the body faults happen: a cut connection and a broken CSV row.
 */
import { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { QueryJob } from './bulk-job';
import { csvLine, csvValue, DELIMITERS, LINE_ENDINGS } from './csv';
import { CsvBytes } from './csv-bytes';
import { DataSource, Row } from './table';

const FLUSH_BYTES = 64 * 1024;

export interface PageRequest {
  offset: number;
  max: number;
  gzip: boolean;
  /** Headers to add (limit info). */
  headers: Record<string, string>;
  /** Cut the connection after part of the body. */
  reset: boolean;
  /** Replace one row by an unterminated-quote row. */
  malformed: boolean;
}

/** Locators are base64 of the next row offset (as Salesforce's "MTAwMDA" is "10000"). */
export function encodeLocator(offset: number): string {
  return Buffer.from(String(offset)).toString('base64').replace(/=+$/, '');
}

/** The offset a locator stands for, or null when it is not one of ours. */
export function decodeLocator(locator: string): number | null {
  if (!/^[A-Za-z0-9+/]+=*$/.test(locator)) return null;
  const text = Buffer.from(locator, 'base64').toString('utf8');
  return /^\d+$/.test(text) ? Number(text) : null;
}

function waitDrain(out: Writable, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) {
      resolve(); // the client went away: nothing will drain
      return;
    }
    const done = (): void => {
      out.off('drain', done);
      res.off('close', done);
      resolve();
    };
    out.once('drain', done);
    res.once('close', done);
  });
}

export async function writePage(res: ServerResponse, job: QueryJob, data: DataSource, p: PageRequest): Promise<void> {
  const count = job.result.count;
  const n = Math.max(0, Math.min(p.max, count - p.offset));
  const next = p.offset + n < count ? encodeLocator(p.offset + n) : 'null';
  res.writeHead(200, {
    ...p.headers,
    'Content-Type': 'text/csv; charset=UTF-8',
    'Sforce-NumberOfRecords': String(n),
    'Sforce-Locator': next,
    ...(p.gzip ? { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' } : {}),
  });
  let out: Writable = res;
  if (p.gzip) {
    const gz = createGzip({ level: 1 });
    gz.pipe(res);
    out = gz;
  }
  const delim = DELIMITERS[job.settings.columnDelimiter];
  const eol = LINE_ENDINGS[job.settings.lineEnding];
  const closed = (): boolean => res.destroyed || res.writableEnded;
  // a fault's page (a cut connection, a broken row) is written as it always was, from strings
  if (p.reset || p.malformed) return writeFaultPage(res, out, job, data, p, n, closed);
  const cols = job.plan.columns;
  // each column's value: a direct field by the table's reader when it has one (no lookup by name)
  const table = data.table(job.plan.object.name);
  const read = cols.map((c) => (c.direct && table.reader?.(c.field.name)) || ((row: Row) => c.get(row, data)));
  const csv = new CsvBytes(FLUSH_BYTES + 16 * 1024);
  for (let c = 0; c < cols.length; c++) {
    if (c > 0) csv.ascii(delim);
    csv.value(cols[c].name);
  }
  csv.ascii(eol);
  let flushes = 0;
  for (const row of job.result.rows(p.offset, n)) {
    for (let c = 0; c < cols.length; c++) {
      if (c > 0) csv.ascii(delim);
      csv.value(read[c](row));
    }
    csv.ascii(eol);
    if (csv.length >= FLUSH_BYTES) {
      const ok = out.write(csv.take());
      if (!ok) await waitDrain(out, res);
      if (++flushes % 8 === 0) await new Promise((r) => setImmediate(r));
      if (closed()) return;
    }
  }
  if (csv.length > 0) out.write(csv.take());
  if (!closed()) out.end();
}

/** The page of a resetMidPage or malformedCsv fault: today's string writer (the fault tests' bytes stay the same). */
async function writeFaultPage(
  res: ServerResponse,
  out: Writable,
  job: QueryJob,
  data: DataSource,
  p: PageRequest,
  n: number,
  closed: () => boolean,
): Promise<void> {
  const delim = DELIMITERS[job.settings.columnDelimiter];
  const eol = LINE_ENDINGS[job.settings.lineEnding];
  const cols = job.plan.columns;
  let buf = csvLine(
    cols.map((c) => c.name),
    delim,
    eol,
  );
  const brokenAt = p.malformed ? Math.floor(n / 2) : -1;
  let k = 0;
  let flushes = 0;

  const flush = async (): Promise<boolean> => {
    if (p.reset) {
      // Send part of the body, then drop the connection mid-page.
      const part = buf.slice(0, Math.max(1, Math.floor(buf.length / 2)));
      await new Promise<void>((resolve) => {
        if (p.gzip) {
          out.write(part);
          (out as ReturnType<typeof createGzip>).flush(() => resolve());
        } else out.write(part, () => resolve());
      });
      setTimeout(() => res.socket?.destroy(), 10);
      return false;
    }
    const ok = out.write(buf);
    buf = '';
    if (!ok) await waitDrain(out, res);
    if (++flushes % 8 === 0) await new Promise((r) => setImmediate(r));
    return !closed();
  };

  for (const row of job.result.rows(p.offset, n)) {
    if (k === brokenAt) {
      buf += `${csvValue(cols.length ? cols[0].get(row, data) : 'x')}${delim}"Bro"ken row${eol}`;
    } else {
      for (let c = 0; c < cols.length; c++) {
        if (c > 0) buf += delim;
        buf += csvValue(cols[c].get(row, data));
      }
      buf += eol;
    }
    k++;
    if (buf.length >= FLUSH_BYTES && !(await flush())) return;
  }
  if (p.reset) {
    await flush();
    return;
  }
  if (buf.length > 0) out.write(buf);
  if (!closed()) out.end();
}
