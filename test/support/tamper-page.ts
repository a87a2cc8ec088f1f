/**
 * A Bulk result page changed as a broken network or a broken Salesforce could change it, for the
 * tests of the pages' integrity checks (connectors/salesforce/csv-page.ts): its last row dropped or
 * repeated, its Sforce-NumberOfRecords off by one, its header renamed, or its rows gone.
 */
import { gunzipSync } from 'node:zlib';
import { RAW_ENCODING_HEADER } from '../../connectors/salesforce/raw-gzip';

export const PAGE_TAMPERS = ['dropLast', 'dupRow', 'countPlus', 'countMinus', 'header', 'headerOnly'] as const;
export type PageTamper = (typeof PAGE_TAMPERS)[number];

/** The page `res` with `how` done to it (its body read: the original is spent). */
export async function tamperPage(res: Response, how: PageTamper): Promise<Response> {
  // a gzip body the extractor's client kept from fetch's decoder (raw-gzip.ts): inflated here
  const raw = Buffer.from(await res.arrayBuffer());
  const kept = res.headers.get(RAW_ENCODING_HEADER) === 'gzip';
  const lines = (kept ? gunzipSync(raw) : raw).toString('utf8').split('\n');
  const headers = new Headers(res.headers);
  headers.delete(RAW_ENCODING_HEADER);
  headers.delete('content-encoding');
  headers.delete('content-length');
  const count = Number(headers.get('Sforce-NumberOfRecords'));
  const last = lines[lines.length - 1] === '' ? lines.length - 2 : lines.length - 1;
  if (how === 'dropLast' && last > 0) lines.splice(last, 1);
  if (how === 'dupRow' && last > 0) lines.splice(last, 0, lines[last]);
  if (how === 'countPlus') headers.set('Sforce-NumberOfRecords', String(count + 1));
  if (how === 'countMinus') headers.set('Sforce-NumberOfRecords', String(count - 1));
  if (how === 'header') lines[0] = lines[0].replace('"Id"', '"Name"');
  if (how === 'headerOnly') lines.splice(1, lines.length - 1, '');
  return new Response(lines.join('\n'), { status: res.status, statusText: res.statusText, headers });
}
