/**
 * Bulk API 2.0's CSV dialect: every value quoted (quotes doubled), a null and an empty string
 * both written as an empty unquoted value, the job's delimiter and line ending.
 */
import { Value } from './table';

export const DELIMITERS: Record<string, string> = {
  COMMA: ',',
  TAB: '\t',
  SEMICOLON: ';',
  PIPE: '|',
  CARET: '^',
  BACKQUOTE: '`',
};
export const LINE_ENDINGS: Record<string, string> = { LF: '\n', CRLF: '\r\n' };

/** The CSV text of one value (without delimiter). */
export function csvValue(v: Value): string {
  if (v === null || v === '') return '';
  if (v === true) return '"true"';
  if (v === false) return '"false"';
  const s = typeof v === 'string' ? v : String(v);
  return `"${s.includes('"') ? s.replace(/"/g, '""') : s}"`;
}

/** A value as userRow() reports it: the string a CSV reader gets back. */
export function plainValue(v: Value): string {
  return v === null ? '' : String(v);
}

export function csvLine(values: Value[], delimiter: string, eol: string): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += delimiter;
    line += csvValue(values[i]);
  }
  return line + eol;
}
