import type { MappingType } from '../../schemas/mapping';

/** The mapping types that turn one non-empty CSV string into one value. */
export type ScalarType = Exclude<MappingType, 'boolean-map' | 'record-url' | 'user-status'>;

export type Converted =
  { readonly ok: true; readonly value: string | number | boolean } | { readonly ok: false; readonly reason: string };

const fail = (reason: string): Converted => ({ ok: false, reason });
const done = (value: string | number | boolean): Converted => ({ ok: true, value });

const ID = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/**
 * Converts one non-empty Bulk CSV value (empty values are null before they get here). Pure.
 * Strict on purpose: Salesforce's formats are fixed (true/false, ISO-8601 UTC, plain decimals),
 * so anything else means a broken row or a changed field, which the dead-letter topic should show.
 */
export function convertScalar(type: ScalarType, raw: string): Converted {
  switch (type) {
    case 'string':
      return done(raw);
    case 'id':
      return ID.test(raw) ? done(raw) : fail('not a 15- or 18-character Salesforce id');
    case 'boolean':
      return raw === 'true' ? done(true) : raw === 'false' ? done(false) : fail('not a boolean (true or false)');
    case 'int': {
      const n = Number(raw);
      return INTEGER.test(raw) && n >= -(2 ** 31) && n < 2 ** 31 ? done(n) : fail('not a 32-bit integer');
    }
    case 'long': {
      const n = Number(raw);
      return INTEGER.test(raw) && Number.isSafeInteger(n) ? done(n) : fail('not an integer within +/-2^53');
    }
    case 'double': {
      const n = Number(raw);
      return DECIMAL.test(raw) && Number.isFinite(n) ? done(n) : fail('not a decimal number');
    }
    case 'timestamp-millis':
      return parseDatetime(raw);
    case 'date':
      return parseDate(raw);
  }
}

/** ISO-8601 datetime with an explicit zone (Salesforce sends Z) -> epoch ms; sub-ms digits dropped. */
function parseDatetime(raw: string): Converted {
  const m = DATETIME.exec(raw);
  if (!m) return fail('not an ISO-8601 datetime with a zone (e.g. 2024-05-01T10:20:30.000Z)');
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (!sameCalendar(local, y, mo, d) || h > 23 || mi > 59 || s > 59) return fail('not a valid calendar datetime');
  return done(local - offsetMinutes(m[8]) * 60_000);
}

/** YYYY-MM-DD -> days since 1970-01-01 (the Avro date logical type). */
function parseDate(raw: string): Converted {
  const m = DATE.exec(raw);
  if (!m) return fail('not a date (YYYY-MM-DD)');
  const [y, mo, d] = m.slice(1, 4).map(Number);
  const t = Date.UTC(y, mo - 1, d);
  return sameCalendar(t, y, mo, d) ? done(t / DAY_MS) : fail('not a valid calendar date');
}

/** Date.UTC rolls 2024-02-30 over to March: a round trip catches impossible dates. */
function sameCalendar(t: number, y: number, mo: number, d: number): boolean {
  const date = new Date(t);
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function offsetMinutes(zone: string): number {
  if (zone === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return zone[0] === '-' ? -minutes : minutes;
}
