/**
 * A strict, streaming RFC 4180 CSV parser for Bulk API 2.0 result pages (a faster stand-in for
 * csv-parse on wide rows).
 *
 * Input is UTF-8 bytes in chunks of any size (a character may be split between chunks); each
 * push() returns the records the chunk completed. The scan runs over the decoded string with
 * indexOf and charCodeAt: a quoted field costs one indexOf for its closing quote, an unquoted one
 * an indexOf for the next delimiter, and the next line feed and quote are looked up once and
 * reused until the scan passes them. Field values are slices of the decoded text (`true` and
 * `false` one shared string each), joined only around a doubled quote or a chunk boundary. Between
 * pushes only the unfinished part of the pending record is kept, and a field cut by a chunk boundary
 * resumes where the scan stopped, so a long record costs linear time. (V8 may keep a chunk's
 * decoded text alive while a slice of it lives; a value kept for long can be copied, e.g. with
 * structuredClone.)
 *
 * Dialect:
 * - records end with LF or CRLF; the final line break is optional, and a line break at the very
 *   end of the input never makes an extra record; an empty input gives no records;
 * - an empty line is a record of one empty field, `['']` (as csv-parse reads it);
 * - a UTF-8 BOM at the very start is dropped (one later is text); bytes that are not UTF-8 become
 *   U+FFFD, as StringDecoder decodes them;
 * - a field may be quoted with `"`; inside quotes `""` is one quote and the delimiter, CR and
 *   LF are plain text; a quote anywhere in an unquoted field is INVALID_QUOTE; a closing quote
 *   followed by anything but the delimiter, a line break or the end of input is
 *   INVALID_CLOSING_QUOTE; the end of input inside quotes is UNCLOSED_QUOTE;
 * - a CR that is not followed by LF, outside quotes, is text of its field (it neither ends the
 *   record nor is an error; Salesforce quotes every value that contains one);
 * - no trimming, no column count check (the caller checks the count against the header);
 * - a record whose text, quotes, delimiters and line break included, is longer than
 *   maxRecordBytes UTF-16 code units is RECORD_TOO_LARGE; a pending record is checked after
 *   each push, so an unclosed quote cannot make the parser buffer a whole page.
 *
 * After a CsvSyntaxError the parser is in an undefined state and must not be used again.
 */
import { StringDecoder } from 'node:string_decoder';

export type CsvSyntaxErrorCode = 'UNCLOSED_QUOTE' | 'INVALID_QUOTE' | 'INVALID_CLOSING_QUOTE' | 'RECORD_TOO_LARGE';

export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';

  constructor(
    readonly code: CsvSyntaxErrorCode,
    /** 1-based number of the record where it happened (the header is record 1). */
    readonly record: number,
    message: string,
  ) {
    super(`${message} (record ${record})`);
  }
}

export interface CsvParserOptions {
  /** One character, default ','. Salesforce offers COMMA, TAB, SEMICOLON, PIPE, CARET, BACKQUOTE. */
  delimiter?: string;
  /** Longest record accepted, in UTF-16 code units of its text (default 8 MiB). */
  maxRecordBytes?: number;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;

/**
 * A field's value: `pending` (its part read before a doubled quote or a chunk boundary) and
 * `buf.slice(from, to)`, except that the two values a Bulk row repeats most, `true` and `false` (~110 of
 * a User row's ~175 fields), are the one shared string each instead of a fresh copy per field (V8 copies
 * a slice under 13 characters): less to allocate, and nothing of it for the young generation's
 * collections to copy while the row waits in the pipeline (docs/performance-s10-cpu.md). The same
 * value either way: strings compare by content.
 */
function field(pending: string, buf: string, from: number, to: number): string {
  if (pending !== '') return pending + buf.slice(from, to);
  const n = to - from;
  if (n === 4 && buf.startsWith('true', from)) return 'true';
  if (n === 5 && buf.startsWith('false', from)) return 'false';
  return buf.slice(from, to);
}

/** Where the scan stands in the pending field. */
const FIELD_START = 0;
const IN_UNQUOTED = 1;
const IN_QUOTED = 2;
type FieldState = typeof FIELD_START | typeof IN_UNQUOTED | typeof IN_QUOTED;

export class CsvParser {
  private readonly delimiter: string;
  private readonly delimiterCode: number;
  private readonly maxRecordChars: number;
  private readonly decoder = new StringDecoder('utf8');
  private bomChecked = false;
  /** Decoded text not consumed yet; the scan resumes at its first character. */
  private tail = '';
  /** Completed fields of the pending record: the first `count` slots (the array is sized ahead). */
  private fields: string[] = [];
  private count = 0;
  private state: FieldState = FIELD_START;
  /** The pending field's value read so far (unescaped), when the state is not FIELD_START. */
  private value = '';
  /** Characters of the pending record consumed by earlier pushes. */
  private pendingChars = 0;
  /** 1-based number of the pending record. */
  private record = 1;

  constructor(opts: CsvParserOptions = {}) {
    const delimiter = opts.delimiter ?? ',';
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\r' || delimiter === '\n') {
      throw new RangeError(
        `CSV delimiter must be one character other than a quote, CR or LF, got ${JSON.stringify(delimiter)}`,
      );
    }
    const max = opts.maxRecordBytes ?? 8 * 1024 * 1024;
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`maxRecordBytes must be a positive integer, got ${max}`);
    this.delimiter = delimiter;
    this.delimiterCode = delimiter.charCodeAt(0);
    this.maxRecordChars = max;
  }

  /** Feeds a chunk of UTF-8 bytes; returns the records it completed, in order. */
  push(chunk: Uint8Array): string[][] {
    return this.parse(this.decoder.write(chunk), false);
  }

  /** End of input: returns the last record if the input did not end with a line break. */
  end(): string[][] {
    return this.parse(this.decoder.end(), true);
  }

  private parse(text: string, final: boolean): string[][] {
    if (!this.bomChecked && text.length > 0) {
      this.bomChecked = true;
      if (text.charCodeAt(0) === BOM) text = text.slice(1);
    }
    const buf = this.tail + text;
    const len = buf.length;
    const delimiter = this.delimiter;
    const delimiterCode = this.delimiterCode;
    const out: string[][] = [];
    let fields = this.fields;
    let count = this.count;
    let state = this.state;
    let value = this.value;
    let pos = 0;
    /** Position of the pending record's first character (negative: it began in an earlier push). */
    let recordStart = -this.pendingChars;
    // Next line feed and next quote at or after some earlier position: valid while >= pos.
    let nextLf = -1;
    let nextQuote = -1;

    for (;;) {
      /** Where the record that this step completes ends (after its line break, if any). */
      let recordEnd: number;
      if (state === IN_QUOTED) {
        const q = buf.indexOf('"', pos);
        if (q === -1) {
          if (final) throw new CsvSyntaxError('UNCLOSED_QUOTE', this.record, 'The input ends inside a quoted field');
          value += buf.slice(pos);
          pos = len;
          break;
        }
        const after = buf.charCodeAt(q + 1); // NaN at the end of the buffer
        if (!final && (q + 1 === len || (after === CR && q + 2 === len))) {
          // Doubled quote, closing quote or CRLF: the next chunk tells. Resume at this quote.
          value += buf.slice(pos, q);
          pos = q;
          break;
        }
        if (after === QUOTE) {
          value += buf.slice(pos, q + 1);
          pos = q + 2;
          continue;
        }
        fields[count++] = field(value, buf, pos, q);
        value = '';
        if (after === delimiterCode) {
          pos = q + 2;
          state = FIELD_START;
          continue;
        }
        if (after === LF) recordEnd = q + 2;
        else if (after === CR && buf.charCodeAt(q + 2) === LF) recordEnd = q + 3;
        else if (q + 1 === len) recordEnd = len;
        else
          throw new CsvSyntaxError(
            'INVALID_CLOSING_QUOTE',
            this.record,
            `A closing quote is followed by ${JSON.stringify(buf[q + 1])} in field ${count}`,
          );
      } else {
        if (state === FIELD_START) {
          if (pos === len && !(final && count > 0)) break;
          if (buf.charCodeAt(pos) === QUOTE) {
            state = IN_QUOTED;
            pos++;
            continue;
          }
          state = IN_UNQUOTED;
        }
        // Unquoted field (empty at the end of input after a delimiter): it ends at the next
        // delimiter or line feed.
        let d = buf.indexOf(delimiter, pos);
        if (d === -1) d = len;
        if (nextLf < pos) {
          nextLf = buf.indexOf('\n', pos);
          if (nextLf === -1) nextLf = len;
        }
        if (nextQuote < pos) {
          nextQuote = buf.indexOf('"', pos);
          if (nextQuote === -1) nextQuote = len;
        }
        if (nextQuote < (d < nextLf ? d : nextLf)) {
          throw new CsvSyntaxError('INVALID_QUOTE', this.record, `A quote inside unquoted field ${count + 1}`);
        }
        if (d < nextLf) {
          fields[count++] = field(value, buf, pos, d);
          value = '';
          pos = d + 1;
          state = FIELD_START;
          continue;
        }
        if (nextLf === len) {
          if (!final) {
            // Keep a last CR in the buffer: it may be the start of a CRLF.
            const keep = len > pos && buf.charCodeAt(len - 1) === CR ? len - 1 : len;
            value += buf.slice(pos, keep);
            pos = keep;
            break;
          }
          fields[count++] = field(value, buf, pos, len);
          recordEnd = len;
        } else {
          const end = nextLf > pos && buf.charCodeAt(nextLf - 1) === CR ? nextLf - 1 : nextLf;
          fields[count++] = field(value, buf, pos, end);
          recordEnd = nextLf + 1;
        }
        value = '';
      }

      if (recordEnd - recordStart > this.maxRecordChars) throw this.tooLarge();
      if (fields.length !== count) fields.length = count;
      out.push(fields);
      // the next record's array at this one's size, allocated once (pushes grew it ~5 times a User row)
      fields = new Array<string>(count);
      count = 0;
      this.record++;
      recordStart = pos = recordEnd;
      state = FIELD_START;
    }

    if (len - recordStart > this.maxRecordChars) throw this.tooLarge();
    this.tail = pos < len ? buf.slice(pos) : '';
    this.fields = fields;
    this.count = count;
    this.state = state;
    this.value = value;
    this.pendingChars = pos - recordStart;
    return out;
  }

  private tooLarge(): CsvSyntaxError {
    return new CsvSyntaxError(
      'RECORD_TOO_LARGE',
      this.record,
      `A record is longer than ${this.maxRecordChars} characters`,
    );
  }
}
