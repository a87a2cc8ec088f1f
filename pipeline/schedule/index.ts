/** The connector's schedule: pure next-run computation and the service that follows it. */
export { parseCron, CronSyntaxError, type CronExpression } from './cron';
export { nextRun } from './next-run';
export {
  WEEKDAYS,
  REPEATS,
  parseStartTime,
  describeSchedule,
  type Schedule,
  type Recurrence,
  type Repeats,
  type StartTime,
  type Weekday,
} from './spec';
export { isValidTimeZone } from './zone';
export { systemClock, type SchedulerClock } from './clock';
export { startScheduler, type Scheduler, type SchedulerDeps, type SchedulerEvent } from './scheduler';
export { DEFAULT_RETRY, plannedRetry, retryAt, retryDelay, type LastRunInfo, type RetryPolicy } from './retry';
