/**
 * A 5-field cron expression (minute hour day-of-month month day-of-week), as in Vixie cron:
 * `*`, lists `a,b`, ranges `a-b`, steps `*\/n` and `a-b/n`, month and weekday names
 * (jan…dec, sun…sat), weekday 7 = Sunday. When both day fields are restricted, a day matches
 * if EITHER matches (the classic cron rule). Only the parser lives here; next-run.ts walks it.
 */

export interface CronExpression {
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday … 6 = Saturday */
  readonly weekdays: ReadonlySet<number>;
  /** False when the field starts with `*` (as Vixie cron decides): then only the other day field restricts. */
  readonly domRestricted: boolean;
  readonly dowRestricted: boolean;
}

/** Thrown for an expression that is not valid cron; the message says which field and why. */
export class CronSyntaxError extends Error {}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** First value the names map to (1 for months, 0 for weekdays). */
  nameBase?: number;
}

const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAYS, nameBase: 0 },
];

function value(text: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + (spec.nameBase ?? 0);
  if (!/^\d+$/.test(text)) throw new CronSyntaxError(`${spec.name}: ${JSON.stringify(text)} is not a number${spec.names ? ' or a name' : ''}`);
  const n = Number(text);
  if (n < spec.min || n > spec.max) throw new CronSyntaxError(`${spec.name}: ${n} is outside ${spec.min}-${spec.max}`);
  return n;
}

function field(text: string, spec: FieldSpec): { values: Set<number>; restricted: boolean } {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === '') throw new CronSyntaxError(`${spec.name}: ${JSON.stringify(part)} is not a value, range or step`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || !/^\d+$/.test(stepText ?? '1')) throw new CronSyntaxError(`${spec.name}: step ${JSON.stringify(stepText)} must be a whole number of at least 1`);
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = spec.min;
      hi = spec.max === 7 ? 6 : spec.max;
    } else {
      const [a, b, more] = range.split('-');
      if (more !== undefined) throw new CronSyntaxError(`${spec.name}: ${JSON.stringify(range)} is not a range`);
      lo = value(a, spec);
      hi = b === undefined ? (stepText === undefined ? lo : spec.max) : value(b, spec);
      if (hi < lo) throw new CronSyntaxError(`${spec.name}: range ${range} runs backwards`);
    }
    for (let v = lo; v <= hi; v += step) values.add(spec.max === 7 && v === 7 ? 0 : v);
  }
  return { values, restricted: !text.startsWith('*') };
}

/** Parses a 5-field expression; throws CronSyntaxError naming the field at fault. */
export function parseCron(expression: string): CronExpression {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new CronSyntaxError(`a cron expression has 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`);
  }
  const [min, hour, dom, mon, dow] = parts.map((p, i) => field(p, FIELDS[i]));
  return {
    source: parts.join(' '),
    minutes: min.values,
    hours: hour.values,
    daysOfMonth: dom.values,
    months: mon.values,
    weekdays: dow.values,
    domRestricted: dom.restricted,
    dowRestricted: dow.restricted,
  };
}

/** Whether a calendar day is a cron day (the day-of-month / day-of-week OR rule included). */
export function cronDayMatches(c: CronExpression, month: number, day: number, weekday: number): boolean {
  if (!c.months.has(month)) return false;
  const dom = c.daysOfMonth.has(day);
  const dow = c.weekdays.has(weekday);
  if (c.domRestricted && c.dowRestricted) return dom || dow;
  return dom && dow;
}
