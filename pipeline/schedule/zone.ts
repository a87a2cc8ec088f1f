/**
 * The few time-zone questions the schedule asks itself, answered by Intl (the runtime's tz
 * database); croner does the wall-clock arithmetic of the schedule (next-run.ts).
 */

const dayFormatters = new Map<string, Intl.DateTimeFormat>();

function dayFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = dayFormatters.get(timeZone);
  if (!f) dayFormatters.set(timeZone, (f = new Intl.DateTimeFormat('en-US', { timeZone, day: 'numeric' })));
  return f;
}

/** True when the runtime knows the zone (e.g. Europe/Berlin, America/New_York, UTC). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    dayFormatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The day of the month (1-31) at instant `ms` on the wall clock of `timeZone`. */
export function localDayOfMonth(ms: number, timeZone: string): number {
  return Number(dayFormatter(timeZone).format(ms));
}
