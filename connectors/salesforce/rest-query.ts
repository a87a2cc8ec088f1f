/**
 * The REST query API (GET /query?q=…, then each page's nextRecordsUrl until done), for the
 * small objects a stream declares `api: 'rest'` for. Records are JSON; they are flattened into
 * the rows a Bulk CSV page would give for the same columns (a parent path such as
 * PermissionSet.Name read through the nested object, a null or absent value as '', booleans and
 * numbers as their text), so everything downstream is the same whichever API read them.
 *
 * Integrity, like integrity.ts for Bulk jobs: the extraction is complete only when the last page
 * says done and the rows read equal the first page's totalSize; anything else is a FatalError,
 * never a partial success (a snapshot stream deletes on the strength of it).
 */
import { FatalError } from '../../kernel/errors';
import type { Row } from './csv-page';
import { dataPath, type SalesforceHttp } from './http';

export interface RestQueryReport {
  object: string;
  totalSize: number;
  rowsRead: number;
  pages: number;
}

interface QueryPage {
  totalSize?: unknown;
  done?: unknown;
  nextRecordsUrl?: unknown;
  records?: unknown;
}

/** Salesforce's own query resources only: a nextRecordsUrl elsewhere is refused, never followed. */
const NEXT = /^\/services\/data\/v\d+\.\d\/query\/[A-Za-z0-9]+-\d+$/;

export async function* restQuery(
  http: SalesforceHttp,
  apiVersion: string,
  object: string,
  soql: string,
  columns: readonly string[],
  signal: AbortSignal,
): AsyncGenerator<Row[], RestQueryReport, undefined> {
  let path: string | null = dataPath(apiVersion, `/query?q=${encodeURIComponent(soql)}`);
  let total: number | null = null;
  let rows = 0;
  let pages = 0;
  const bad = (why: string) => new FatalError('SALESFORCE_BAD_RESPONSE', `REST query of ${object}: ${why}`);
  while (path !== null) {
    const page: QueryPage = await http.json<QueryPage>({
      method: 'GET',
      path,
      repeatable: true,
      what: `query ${object} (page ${pages + 1})`,
      signal,
    });
    pages++;
    if (!page || typeof page.totalSize !== 'number' || !Array.isArray(page.records) || typeof page.done !== 'boolean') {
      throw bad('a page is not { totalSize, done, records }');
    }
    total ??= page.totalSize;
    const batch = (page.records as unknown[]).map((r) => flatten(r, columns));
    rows += batch.length;
    if (batch.length > 0) yield batch;
    if (page.done) path = null;
    else if (typeof page.nextRecordsUrl === 'string' && NEXT.test(page.nextRecordsUrl)) path = page.nextRecordsUrl;
    else throw bad(`a page says more follow but its nextRecordsUrl is ${JSON.stringify(page.nextRecordsUrl)}`);
  }
  if (rows !== total) {
    throw new FatalError(
      'SALESFORCE_INCOMPLETE_RESULTS',
      `REST query of ${object} is not a complete extraction: totalSize ${total}, rows read ${rows} in ${pages} pages`,
    );
  }
  return { object, totalSize: total ?? 0, rowsRead: rows, pages };
}

/** One JSON record as the row a Bulk CSV page gives for these columns. */
export function flatten(record: unknown, columns: readonly string[]): Row {
  const row: Row = {};
  for (const col of columns) {
    let v: unknown = record;
    for (const part of col.split('.')) {
      v = v !== null && typeof v === 'object' ? fieldOf(v as Record<string, unknown>, part) : null;
    }
    row[col] = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return row;
}

/** JSON keys are spelled as describe spells them; match case-insensitively as SOQL does. */
function fieldOf(o: Record<string, unknown>, name: string): unknown {
  if (name in o) return o[name];
  const lower = name.toLowerCase();
  const key = Object.keys(o).find((k) => k.toLowerCase() === lower);
  return key === undefined ? null : o[key];
}
