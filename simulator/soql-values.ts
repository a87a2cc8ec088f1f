/**
 * Typed comparison of field values with SOQL literals, following Salesforce's rules:
 * text compares case-insensitively, `!=` matches nulls, datetimes compare as instants, date
 * literals (TODAY, LAST_N_DAYS:n) are ranges. Type mismatches are refused as Salesforce does.
 */
import { SfError, soqlError } from './errors';
import { isValidId, to18 } from './ids';
import { FieldDef, FieldType } from './schema';
import { CompareOp, Literal } from './soql-parser';
import { Value } from './table';

export const TEXT_TYPES = new Set<FieldType>(['string', 'textarea', 'email', 'phone', 'url', 'picklist']);
const DAY = 86400_000;

/** A literal converted for one field: an exact value, or a [start, end) instant range. */
export type Operand = { kind: 'exact'; value: Value } | { kind: 'range'; range: (nowMs: number) => [number, number] };

const typeName: Record<string, string> = {
  boolean: 'boolean',
  datetime: 'dateTime',
  date: 'date',
  double: 'double',
  int: 'int',
};

/** ISO-8601 with Z or ±hh[:]mm → canonical "YYYY-MM-DDTHH:MM:SS.sssZ". */
export function canonicalDatetime(text: string): string | null {
  const fixed = text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(fixed);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function keywordRange(lit: Literal): (nowMs: number) => [number, number] {
  const n = lit.n ?? 0;
  return (nowMs) => {
    const today = Math.floor(nowMs / DAY) * DAY;
    switch (lit.text) {
      case 'TODAY':
        return [today, today + DAY];
      case 'YESTERDAY':
        return [today - DAY, today];
      case 'TOMORROW':
        return [today + DAY, today + 2 * DAY];
      case 'LAST_90_DAYS':
        return [today - 90 * DAY, today + DAY];
      case 'LAST_N_DAYS':
        return [today - n * DAY, today + DAY];
      case 'NEXT_N_DAYS':
        return [today + DAY, today + (n + 1) * DAY];
      case 'N_DAYS_AGO':
        return [today - n * DAY, today - (n - 1) * DAY];
      case 'LAST_N_HOURS':
        return [nowMs - n * 3600_000, nowMs];
      case 'THIS_WEEK':
      case 'LAST_WEEK': {
        const weekStart = today - ((new Date(today).getUTCDay() + 6) % 7) * DAY; // Monday
        return lit.text === 'THIS_WEEK' ? [weekStart, weekStart + 7 * DAY] : [weekStart - 7 * DAY, weekStart];
      }
      default: {
        // THIS_MONTH, LAST_MONTH
        const d = new Date(today);
        const m0 = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
        const m1 = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
        const mPrev = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
        return lit.text === 'THIS_MONTH' ? [m0, m1] : [mPrev, m0];
      }
    }
  };
}

/** Converts a literal for comparison with `field`; throws Salesforce's error on a mismatch. */
export function operandFor(q: string, field: FieldDef, lit: Literal): Operand {
  const t = field.type;
  const mismatch = (): SfError => {
    const expected = typeName[t] ?? 'string';
    const quoting =
      TEXT_TYPES.has(t) || t === 'id' || t === 'reference'
        ? 'should be enclosed in quotes'
        : 'should not be enclosed in quotes';
    return soqlError(
      'INVALID_QUERY_FILTER_OPERATOR',
      q,
      lit.pos,
      `value of filter criterion for field '${field.name}' must be of type ${expected} and ${quoting}`,
    );
  };
  if (lit.kind === 'null') return { kind: 'exact', value: null };
  if (TEXT_TYPES.has(t)) {
    if (lit.kind !== 'string') throw mismatch();
    return { kind: 'exact', value: lit.text };
  }
  switch (t) {
    case 'id':
    case 'reference':
      if (lit.kind !== 'string') throw mismatch();
      if (!isValidId(lit.text))
        throw soqlError('INVALID_QUERY_FILTER_OPERATOR', q, lit.pos, `invalid ID field: ${lit.text}`);
      return { kind: 'exact', value: to18(lit.text) };
    case 'boolean':
      if (lit.kind !== 'boolean') throw mismatch();
      return { kind: 'exact', value: lit.text === 'true' };
    case 'double':
    case 'int':
      if (lit.kind !== 'number') throw mismatch();
      return { kind: 'exact', value: Number(lit.text) };
    case 'datetime': {
      if (lit.kind === 'dateKeyword') return { kind: 'range', range: keywordRange(lit) };
      const v = lit.kind === 'datetime' ? canonicalDatetime(lit.text) : null;
      if (v === null) throw mismatch();
      return { kind: 'exact', value: v };
    }
    case 'date':
      if (lit.kind === 'dateKeyword') return { kind: 'range', range: keywordRange(lit) };
      if (lit.kind !== 'date') throw mismatch();
      return { kind: 'exact', value: lit.text };
    default:
      throw mismatch();
  }
}

/** Total order used by comparisons and ORDER BY for non-null values of one field type. */
export function compareValues(type: FieldType, a: Value, b: Value): number {
  if (TEXT_TYPES.has(type)) {
    const x = String(a).toLowerCase();
    const y = String(b).toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (type === 'boolean') return Number(a) - Number(b);
  if (type === 'double' || type === 'int') return Number(a) - Number(b);
  // ids, datetimes (canonical ISO) and dates compare as strings
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const datetimeMs = (type: FieldType, v: Value): number => Date.parse(type === 'date' ? `${v}T00:00:00Z` : String(v));

/** Compiles `value OP operand` into a test on field values. */
export function comparator(type: FieldType, op: CompareOp, operand: Operand): (v: Value, nowMs: number) => boolean {
  if (operand.kind === 'range') {
    const { range } = operand;
    return (v, nowMs) => {
      if (v === null) return op === '!=';
      const [a, b] = range(nowMs);
      const x = datetimeMs(type, v);
      switch (op) {
        case '=':
          return x >= a && x < b;
        case '!=':
          return x < a || x >= b;
        case '<':
          return x < a;
        case '<=':
          return x < b;
        case '>':
          return x >= b;
        case '>=':
          return x >= a;
        default:
          return false;
      }
    };
  }
  const lit = operand.value;
  if (op === 'like') {
    const re = likeRegExp(String(lit));
    return (v) => v !== null && re.test(String(v));
  }
  if (lit === null) {
    if (op === '=') return (v) => v === null;
    if (op === '!=') return (v) => v !== null;
    return () => false;
  }
  return (v) => {
    // SOQL: `field != value` also matches records where the field is null.
    if (v === null) return op === '!=';
    const c = compareValues(type, v, lit);
    switch (op) {
      case '=':
        return c === 0;
      case '!=':
        return c !== 0;
      case '<':
        return c < 0;
      case '<=':
        return c <= 0;
      case '>':
        return c > 0;
      default:
        return c >= 0;
    }
  };
}

/** LIKE pattern → RegExp: % any run, _ one char, \% and \_ literal; case-insensitive. */
function likeRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && (pattern[i + 1] === '%' || pattern[i + 1] === '_')) {
      re += '\\' + pattern[++i];
    } else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}
