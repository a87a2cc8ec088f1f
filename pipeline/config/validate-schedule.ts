import { CronSyntaxError, parseCron } from '../schedule/cron';
import { REPEATS, WEEKDAYS, parseStartTime, type Schedule, type Weekday } from '../schedule/spec';
import { isValidTimeZone } from '../schedule/zone';
import type { Reader } from './reader';

/** The schedule's options: the connector's only. */
export const SCHEDULE_KEYS: readonly string[] = [
  'repeats', 'startTime', 'timeZone', 'weekday', 'dayOfMonth', 'cron', 'active',
];

/**
 * Repeats, Start time and Active (the product's options) and the time zone. Defaults: daily at
 * 02:00 UTC, active: the product documentation advises night runs.
 */
export function readSchedule(r: Reader): Schedule | undefined {
  const repeats = r.string('repeats', { default: 'daily', oneOf: REPEATS }) as Schedule['repeats'] | undefined;
  const startText = r.string('startTime', { default: '02:00' });
  const startTime = startText === undefined ? undefined : parseStartTime(startText);
  if (startText !== undefined && !startTime) r.issues.add('startTime', 'is not a time of day', { value: startText, allowed: 'HH:MM on the 24-hour clock, e.g. 02:00' });
  const timeZone = r.string('timeZone', { default: 'UTC' });
  if (timeZone !== undefined && !isValidTimeZone(timeZone)) r.issues.add('timeZone', 'is not a known IANA time zone', { value: timeZone, allowed: 'e.g. UTC, Europe/Berlin, America/New_York' });
  const weekday = r.string('weekday', { oneOf: WEEKDAYS }) as Weekday | undefined;
  const dayOfMonth = r.number('dayOfMonth', { min: 1, max: 31, integer: true });
  const cronText = r.string('cron');
  const active = r.boolean('active', true);

  const onlyFor = (key: string, kind: string) => r.has(key) && repeats !== kind && r.issues.add(key, `is only used when repeats is ${kind} (repeats is ${repeats})`, { value: r.raw(key) });
  onlyFor('weekday', 'weekly');
  onlyFor('dayOfMonth', 'monthly');
  onlyFor('cron', 'cron');
  if (!repeats || !startTime || !timeZone || !isValidTimeZone(timeZone)) return undefined;
  const base = { timeZone, active };
  switch (repeats) {
    case 'hourly':
    case 'daily':
      return { repeats, startTime, ...base };
    case 'weekly':
      if (!weekday) return r.issues.add('weekday', 'is required when repeats is weekly', { allowed: WEEKDAYS.join(', ') });
      return { repeats, startTime, weekday, ...base };
    case 'monthly':
      if (dayOfMonth === undefined) return r.issues.add('dayOfMonth', 'is required when repeats is monthly', { allowed: '1 to 31 (a day the month lacks means its last day)' });
      return { repeats, startTime, dayOfMonth, ...base };
    case 'cron':
      if (!cronText) return r.issues.add('cron', 'is required when repeats is cron', { allowed: 'a 5-field cron expression, e.g. "30 1 * * 1-5"' });
      try {
        return { repeats, cron: parseCron(cronText), ...base };
      } catch (err) {
        if (!(err instanceof CronSyntaxError)) throw err;
        return r.issues.add('cron', err.message, { value: cronText, allowed: 'minute hour day-of-month month day-of-week' });
      }
  }
}
