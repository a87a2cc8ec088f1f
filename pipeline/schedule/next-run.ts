import { cronDayMatches } from './cron';
import type { Schedule } from './spec';
import { WEEKDAYS } from './spec';
import { daysInMonth, resolveLocal, toLocal } from './zone';

/** How far ahead a cron expression is searched: 8 years covers "29 February on a Monday". */
const MAX_DAYS = 8 * 366;

/** The local minutes of one calendar day at which the schedule wants a run, in order. */
function minutesOfDay(s: Schedule, year: number, month: number, day: number, weekday: number): [number, number][] {
  switch (s.repeats) {
    case 'hourly':
      return Array.from({ length: 24 }, (_, h) => [h, s.startTime.minute]);
    case 'daily':
      return [[s.startTime.hour, s.startTime.minute]];
    case 'weekly':
      return WEEKDAYS[weekday] === s.weekday ? [[s.startTime.hour, s.startTime.minute]] : [];
    case 'monthly':
      // A day the month lacks (31 in April) means the month's last day.
      return day === Math.min(s.dayOfMonth, daysInMonth(year, month)) ? [[s.startTime.hour, s.startTime.minute]] : [];
    case 'cron': {
      if (!cronDayMatches(s.cron, month, day, weekday)) return [];
      const out: [number, number][] = [];
      for (const h of [...s.cron.hours].sort((a, b) => a - b)) for (const m of [...s.cron.minutes].sort((a, b) => a - b)) out.push([h, m]);
      return out;
    }
  }
}

/**
 * Pure: the first scheduled start strictly after `afterMs` (epoch ms), or null when the
 * schedule never fires again (a cron date that does not occur within 8 years). Ignores
 * `active`: whether to start is the scheduler's decision. Wall-clock rules: see spec.ts.
 */
export function nextRun(s: Schedule, afterMs: number): number | null {
  const start = toLocal(afterMs, s.timeZone);
  // Begin a day early: a gap-shifted or zone-shifted slot of yesterday can still lie ahead.
  const first = Date.UTC(start.year, start.month - 1, start.day - 1);
  for (let i = 0; i < MAX_DAYS; i++) {
    const d = new Date(first + i * 86_400_000);
    const [y, mo, day, wd] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCDay()];
    for (const [h, m] of minutesOfDay(s, y, mo, day, wd)) {
      const at = resolveLocal(y, mo, day, h, m, s.timeZone);
      if (at > afterMs) return at;
    }
  }
  return null;
}
