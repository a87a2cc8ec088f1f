import type { ClientBase } from 'pg';

/** What node-postgres hands a custom query object (the parts COPY needs). */
interface Connection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/**
 * COPY … FROM STDIN on a pg client, without a streaming dependency: a minimal custom query
 * object (node-postgres "submittable") answers the server's CopyInResponse with `chunks`.
 * Resolves with the number of rows copied; rejects with the server's error (SQLSTATE kept) or
 * the connection's. The data is all in memory: meant for one batch at a time.
 */
export function copyFrom(client: ClientBase, sql: string, chunks: readonly Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(rows);
    };
    const query = {
      text: sql,
      submit(connection: Connection) {
        connection.query(sql);
      },
      handleCopyInResponse(connection: Connection) {
        for (const chunk of chunks) connection.sendCopyFromChunk(chunk);
        connection.endCopyFrom();
      },
      handleCommandComplete(msg: { text?: string }) {
        rows = Number(/^COPY (\d+)/.exec(msg.text ?? '')?.[1] ?? 0);
      },
      // node-postgres calls this once, for a server error (then no ReadyForQuery reaches us) and
      // for a lost connection alike.
      handleError: (err: unknown) => finish(err),
      handleReadyForQuery: () => finish(),
      handleRowDescription: () => undefined,
      handleDataRow: () => undefined,
      handleEmptyQuery: () => undefined,
      handlePortalSuspended: () => undefined,
      handleCopyData: () => undefined,
    };
    (client as unknown as { query(q: unknown): void }).query(query);
  });
}

/** One value in COPY's text format: \N for NULL; backslash, tab, CR and LF escaped. */
export function copyValue(wireType: string, value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  let text: string;
  if (wireType === 'jsonb') text = JSON.stringify(value);
  else if (wireType === 'boolean') text = value ? 't' : 'f';
  else text = String(value);
  return ESCAPE.test(text) ? text.replace(ESCAPE_ALL, (c) => ESCAPES[c]) : text;
}

const ESCAPE = /[\\\t\n\r]/;
const ESCAPE_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
