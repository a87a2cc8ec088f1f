/**
 * Wall-clock time in an IANA time zone, converted with Intl.DateTimeFormat (no tz database of
 * our own). Times are epoch milliseconds; a "local time" is a calendar date and a minute of day.
 */

export interface LocalTime {
  year: number;
  /** 1-12 */
  month: number;
  /** 1-31 */
  day: number;
  /** 0-23 */
  hour: number;
  minute: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAY_INDEX: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** True when the runtime knows the zone (e.g. Europe/Berlin, America/New_York, UTC). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time at instant `ms` in `timeZone` (seconds dropped). */
export function toLocal(ms: number, timeZone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year), month: Number(parts.month), day: Number(parts.day),
    hour: Number(parts.hour), minute: Number(parts.minute), weekday: WEEKDAY_INDEX[parts.weekday],
  };
}

/** The zone's offset from UTC at instant `ms`, in ms (Berlin in summer: +7200000). */
function offsetAt(ms: number, timeZone: string): number {
  const l = toLocal(ms, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute);
  return asUtc - (ms - (((ms % 60_000) + 60_000) % 60_000));
}

/**
 * Every instant whose wall clock in `timeZone` reads this date and minute, earliest first:
 * one normally, none in a spring-forward gap, two in a fall-back overlap. Assumes offsets
 * change at most once within a day either side, which holds for every real zone.
 */
export function fromLocal(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number[] {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const offsets = new Set([offsetAt(wall - 86_400_000, timeZone), offsetAt(wall, timeZone), offsetAt(wall + 86_400_000, timeZone)]);
  const out: number[] = [];
  for (const off of offsets) {
    const t = wall - off;
    const l = toLocal(t, timeZone);
    if (l.year === year && l.month === month && l.day === day && l.hour === hour && l.minute === minute && !out.includes(t)) out.push(t);
  }
  return out.sort((a, b) => a - b);
}

/**
 * The instant a run planned for this local minute starts: the first occurrence of that minute
 * (an ambiguous time in the autumn runs once), or, when the minute does not exist (spring gap),
 * the first valid minute after it (02:30 on the spring-forward night in Berlin → 03:00).
 */
export function resolveLocal(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  for (let step = 0; step <= 24 * 60; step++) {
    const d = new Date(Date.UTC(year, month - 1, day, hour, minute + step));
    const hits = fromLocal(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), timeZone);
    if (hits.length > 0) return hits[0];
  }
  throw new Error(`no valid local time near ${year}-${month}-${day} ${hour}:${minute} in ${timeZone}`);
}

/** Days in a month of the proleptic Gregorian calendar (month 1-12). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
