import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyStreamFrom } from 'pg-copy-streams';

/**
 * COPY … FROM STDIN on a pg client, through pg-copy-streams. Resolves with the number of rows
 * copied; rejects with the server's error (SQLSTATE kept, so classify.ts can tell a bad row from
 * a lost connection) or the connection's. The chunks are one batch, already in memory.
 */
export async function copyFrom(client: ClientBase, sql: string, chunks: readonly Buffer[]): Promise<number> {
  const copy = client.query(copyStreamFrom(sql));
  await pipeline(Readable.from(chunks), copy);
  return copy.rowCount;
}

/** One value in COPY's text format: \N for NULL; backslash, tab, CR and LF escaped. */
export function copyValue(wireType: string, value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  // A number's text has nothing to escape (JSON's is another matter: NaN is null there).
  if (typeof value === 'number' && wireType !== 'jsonb' && wireType !== 'boolean') return String(value);
  let text: string;
  if (wireType === 'jsonb') text = JSON.stringify(value);
  else if (wireType === 'boolean') text = value ? 't' : 'f';
  else text = String(value);
  return ESCAPE.test(text) ? text.replace(ESCAPE_ALL, (c) => ESCAPES[c]) : text;
}

const ESCAPE = /[\\\t\n\r]/;
const ESCAPE_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
