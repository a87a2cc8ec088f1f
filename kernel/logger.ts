/**
 * The logger: pino, one JSON object per line on stderr (readable lines instead when stderr is a
 * terminal, through pino-pretty; LOG_FORMAT=json or pretty forces either), with secret redaction
 * on every line. Components receive a Logger; they never write to the console themselves.
 */
import pino from 'pino';
import pretty from 'pino-pretty';
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

export interface LoggerOptions {
  level?: Level;
  fields?: Record<string, unknown>;
  secrets?: readonly string[];
  /** Where each line goes (tests); default stderr, JSON or pretty as LOG_FORMAT and the terminal say. */
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? ((process.env.LOG_LEVEL as Level) || 'info');
  const redactor = new Redactor(opts.secrets ?? []);
  const out = opts.write ?? defaultWrite();
  const root = pino(
    {
      level: level in ORDER ? level : 'info',
      base: null, // no pid or hostname on every line
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // Secret-looking fields are masked before serialising, known secrets in any value removed.
        log: (fields) => redactor.redact(fields) as Record<string, unknown>,
      },
    },
    // The serialised line is scrubbed again: a secret split across fields or escaped by JSON goes too.
    { write: (line: string) => out(scrubSecrets(redactor.scrub(line)).replace(/\n$/, '')) },
  );
  return wrap(root, redactor, opts.fields ?? {});
}

/**
 * Bound fields are kept here and merged into each line (not pino children): a child that binds a
 * key again replaces it, where pino would write the key twice.
 */
function wrap(p: pino.Logger, redactor: Redactor, bound: Record<string, unknown>): Logger {
  // pino's messages are not passed through formatters: scrub them here.
  const at = (level: Level) => (msg: string, fields?: Record<string, unknown>) =>
    p[level]({ ...bound, ...fields }, redactor.scrub(msg));
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (f) => wrap(p, redactor, { ...bound, ...f }),
  };
}

/** stderr: JSON lines, or pino-pretty's readable ones on a terminal (LOG_FORMAT=json|pretty overrides). */
function defaultWrite(): (line: string) => void {
  const format = process.env.LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (format !== 'pretty') return (line) => process.stderr.write(line + '\n');
  const stream = pretty({ destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss.l' });
  return (line) => stream.write(line + '\n');
}

/** A logger that drops everything (tests that don't assert on logs). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
