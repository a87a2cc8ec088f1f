/**
 * A small structured logger (one JSON object per line on stderr) with secret redaction.
 * Components receive a Logger; they never write to the console themselves.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Field names whose values are always masked, wherever they appear. */
const SECRET_KEY = /(password|secret|token|assertion|authorization|private_?key|api_?key|sasl)/i;

/** Returns a copy of `value` with secret-looking fields masked, and known secret strings removed. */
export function redact(value: unknown, secrets: readonly string[] = []): unknown {
  if (typeof value === 'string') return scrub(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redact(v, secrets));
  if (value instanceof Error) return { name: value.name, message: scrub(value.message, secrets) };
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && v != null ? '***' : redact(v, secrets);
    return out;
  }
  return value;
}

/** Replaces every occurrence of each known secret (at least 4 chars) with ***. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}

export function createLogger(opts: { level?: Level; fields?: Record<string, unknown>; secrets?: readonly string[]; write?: (line: string) => void } = {}): Logger {
  const min = ORDER[opts.level ?? ((process.env.LOG_LEVEL as Level) || 'info')] ?? ORDER.info;
  const base = opts.fields ?? {};
  const secrets = opts.secrets ?? [];
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const log = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const entry = { time: new Date().toISOString(), level, msg: scrub(msg, secrets), ...(redact({ ...base, ...fields }, secrets) as object) };
    write(JSON.stringify(entry));
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
