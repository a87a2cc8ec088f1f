import { Cron } from 'croner';
import type { Schedule } from './spec';
import { WEEKDAYS } from './spec';
import { localDayOfMonth } from './zone';

/** How far ahead a monthly substitute (the month's last day) is looked for: a year of months. */
const MAX_MONTHS = 13;

/**
 * Pure: the first scheduled start strictly after `afterMs` (epoch ms), or null when the
 * schedule never fires again (a cron date that never occurs). Ignores `active`: whether to
 * start is the scheduler's decision. croner walks the wall clock of the zone; the rules it
 * follows across DST changes are spec.ts's.
 */
export function nextRun(s: Schedule, afterMs: number): number | null {
  if (s.repeats === 'monthly' && s.dayOfMonth > 28) return nextMonthly(s, afterMs);
  return next(pattern(s), s.timeZone, afterMs);
}

function pattern(s: Schedule): string {
  switch (s.repeats) {
    case 'hourly':
      return `${s.startTime.minute} * * * *`;
    case 'daily':
      return `${s.startTime.minute} ${s.startTime.hour} * * *`;
    case 'weekly':
      return `${s.startTime.minute} ${s.startTime.hour} * * ${WEEKDAYS.indexOf(s.weekday)}`;
    case 'monthly':
      return `${s.startTime.minute} ${s.startTime.hour} ${s.dayOfMonth} * *`;
    case 'cron':
      return s.cron.source;
  }
}

function next(cron: string, timeZone: string, afterMs: number): number | null {
  const at = new Cron(cron, { paused: true, timezone: timeZone, legacyMode: true }).nextRun(new Date(afterMs));
  return at ? at.getTime() : null;
}

/**
 * Day 29, 30 or 31: that day in the months that have it, the month's last day in the others
 * (31 → 30 April, 28 or 29 February). The last day substitutes only in a month shorter than the day.
 */
function nextMonthly(s: Extract<Schedule, { repeats: 'monthly' }>, afterMs: number): number | null {
  const { hour, minute } = s.startTime;
  const onTheDay = next(`${minute} ${hour} ${s.dayOfMonth} * *`, s.timeZone, afterMs);
  let last = afterMs;
  for (let i = 0; i < MAX_MONTHS; i++) {
    const at = next(`${minute} ${hour} L * *`, s.timeZone, last);
    if (at === null) break;
    if (localDayOfMonth(at, s.timeZone) < s.dayOfMonth) return onTheDay === null ? at : Math.min(at, onTheDay);
    last = at;
  }
  return onTheDay;
}
