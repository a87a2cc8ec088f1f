import { Cron } from 'croner';

/**
 * A 5-field cron expression (minute hour day-of-month month day-of-week), as in Vixie cron:
 * `*`, lists `a,b`, ranges `a-b`, steps `*\/n` and `a-b/n`, month and weekday names
 * (jan…dec, sun…sat), weekday 7 = Sunday. When both day fields are restricted, a day matches
 * if EITHER matches (the classic cron rule, croner's legacyMode). croner parses and walks it;
 * only the shape (exactly five fields, no seconds or years) is checked here.
 */
export interface CronExpression {
  readonly source: string;
}

/** Thrown for an expression that is not valid cron; the message says which field and why. */
export class CronSyntaxError extends Error {}

export function parseCron(text: string): CronExpression {
  const source = text.trim();
  const fields = source.split(/\s+/);
  if (fields.length !== 5)
    throw new CronSyntaxError(`needs 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`);
  try {
    new Cron(source, { paused: true, legacyMode: true });
  } catch (err) {
    throw new CronSyntaxError((err as Error).message.replace(/^CronPattern: /, ''));
  }
  return { source };
}
