/**
 * The schedule of one connector, as the product documentation describes it: Repeats, Start time
 * and Active, plus the time zone the start time is read in. Validated by pipeline/config.
 *
 *  - hourly:  every hour at the start time's minute (the hour of startTime is ignored);
 *  - daily:   every day at startTime;
 *  - weekly:  on `weekday` at startTime;
 *  - monthly: on `dayOfMonth` at startTime; a day the month lacks means its last day
 *             (31 → 30 April, 28 or 29 February);
 *  - cron:    a 5-field cron expression, read in the time zone (startTime is not used).
 *
 * Wall-clock rules (croner's, next-run.ts): a start time that does not exist on a spring-forward
 * night runs at the first valid minute after it; one that exists twice on a fall-back night runs
 * once, at its first occurrence. Hourly runs every real hour at its minute: the hour skipped in
 * spring has no run (the runs stay an hour apart), the hour repeated in autumn has two.
 */
import type { CronExpression } from './cron';

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const REPEATS = ['hourly', 'daily', 'weekly', 'monthly', 'cron'] as const;
export type Repeats = (typeof REPEATS)[number];

/** A time of day, wall clock. */
export interface StartTime {
  hour: number;
  minute: number;
}

export type Recurrence =
  | { repeats: 'hourly'; startTime: StartTime }
  | { repeats: 'daily'; startTime: StartTime }
  | { repeats: 'weekly'; startTime: StartTime; weekday: Weekday }
  | { repeats: 'monthly'; startTime: StartTime; dayOfMonth: number }
  | { repeats: 'cron'; cron: CronExpression };

export type Schedule = Recurrence & {
  /** IANA zone the start time (or cron) is read in, e.g. Europe/Berlin. */
  timeZone: string;
  /** While false no run starts; turning it on again resumes the schedule from then on. */
  active: boolean;
};

/** Parses 'HH:MM' (24-hour clock); null when it is not one. */
export function parseStartTime(text: string): StartTime | null {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : null;
}

/** For logs and `status`: "daily at 02:00 Europe/Berlin". */
export function describeSchedule(s: Schedule): string {
  const at = (t: StartTime) => `${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`;
  const what =
    s.repeats === 'hourly'
      ? `hourly at minute ${String(s.startTime.minute).padStart(2, '0')}`
      : s.repeats === 'daily'
        ? `daily at ${at(s.startTime)}`
        : s.repeats === 'weekly'
          ? `weekly on ${s.weekday} at ${at(s.startTime)}`
          : s.repeats === 'monthly'
            ? `monthly on day ${s.dayOfMonth} (or the month's last day) at ${at(s.startTime)}`
            : `cron "${s.cron.source}"`;
  return `${what} ${s.timeZone}${s.active ? '' : ' (inactive)'}`;
}
