/**
 * A small structured logger (one JSON object per line on stderr) with secret redaction.
 * Components receive a Logger; they never write to the console themselves.
 */
import { Redactor, scrubSecrets } from './redact';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Returns a copy of `value` with secret-looking fields masked, and known secret strings removed (redact.ts). */
export function redact(value: unknown, secrets: readonly string[] = []): unknown {
  return new Redactor(secrets).redact(value);
}

/** Replaces each known secret (at least 4 chars), in every encoding it could take, with ***. */
export function scrub(text: string, secrets: readonly string[]): string {
  return new Redactor(secrets).scrub(text);
}

export function createLogger(opts: { level?: Level; fields?: Record<string, unknown>; secrets?: readonly string[]; write?: (line: string) => void } = {}): Logger {
  const min = ORDER[opts.level ?? ((process.env.LOG_LEVEL as Level) || 'info')] ?? ORDER.info;
  const base = opts.fields ?? {};
  const redactor = new Redactor(opts.secrets ?? []);
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const log = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const fieldsRedacted = redactor.redact({ ...base, ...fields }) as object;
    const entry = { time: new Date().toISOString(), level, msg, ...fieldsRedacted };
    // The serialised line is scrubbed again: a secret split across fields or escaped by JSON goes too.
    write(scrubSecrets(redactor.scrub(JSON.stringify(entry))));
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (f) => createLogger({ ...opts, fields: { ...base, ...f } }),
  };
}

/** A logger that drops everything (tests that don't assert on logs). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
