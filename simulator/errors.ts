/**
 * Errors the simulator answers with, in Salesforce's REST shape:
 * HTTP status + body `[{"errorCode": "...", "message": "..."}]`.
 */
export class SfError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'SfError';
  }

  body(): string {
    return JSON.stringify([{ errorCode: this.errorCode, message: this.message }]);
  }
}

export const notFound = (): SfError => new SfError(404, 'NOT_FOUND', 'The requested resource does not exist');

/** A SOQL error, formatted like Salesforce's: the query, a caret under the culprit, its position. */
export function soqlError(code: string, query: string, pos: number, message: string): SfError {
  const before = query.slice(0, pos);
  const row = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = query.indexOf('\n', pos);
  const line = query.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  const col = pos - lineStart + 1;
  return new SfError(400, code, `\n${line}\n${' '.repeat(col - 1)}^\nERROR at Row:${row}:Column:${col}\n${message}`);
}
