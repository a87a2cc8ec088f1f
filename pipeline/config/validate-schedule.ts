import { CronSyntaxError, parseCron } from '../schedule/cron';
import { REPEATS, WEEKDAYS, parseStartTime, type Schedule, type Weekday } from '../schedule/spec';
import { DEFAULT_RETRY, type RetryPolicy } from '../schedule/retry';
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

/**
 * runRetries: a failed scheduled run is tried again within its slot (pipeline/schedule/retry.ts).
 * Defaults: 3 retries, 5 minutes then doubling, at most 60 minutes apart; retries: 0 turns it off.
 */
export function readRunRetries(r: Reader): RetryPolicy {
  const o = r.object('runRetries');
  const retries = o.number('retries', { default: DEFAULT_RETRY.retries, min: 0, max: 20, integer: true }) ?? DEFAULT_RETRY.retries;
  const initial = o.number('initialDelayMinutes', { default: DEFAULT_RETRY.initialDelayMs / 60_000, min: 0.1, max: 1440 }) ?? 5;
  const max = o.number('maxDelayMinutes', { default: DEFAULT_RETRY.maxDelayMs / 60_000, min: 0.1, max: 1440 }) ?? 60;
  o.finish();
  if (max < initial) r.issues.add('runRetries.maxDelayMinutes', 'is shorter than initialDelayMinutes', { value: max, allowed: `at least ${initial}` });
  return { retries, initialDelayMs: Math.round(initial * 60_000), maxDelayMs: Math.round(max * 60_000) };
}
