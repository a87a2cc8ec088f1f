import type { z } from 'zod';
import { FatalError } from './errors';

/** One thing wrong with a config: which field, what was found (secrets masked), what is allowed. */
export interface ConfigIssue {
  /** Dotted path as written in the file, e.g. kafka.sasl.mechanism. */
  field: string;
  problem: string;
  /** The value found, printable; '***' for a secret; absent when the field is missing. */
  value?: string;
  /** What would be accepted. */
  allowed?: string;
}

/**
 * The whole config was checked and at least one field is wrong. `issues` lists every problem
 * found (not just the first); the message prints them one per line. Never contains a secret.
 */
export class ConfigError extends FatalError {
  constructor(
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(
      'CONFIG_INVALID',
      `${source}: ${issues.length} configuration error${issues.length === 1 ? '' : 's'}:\n` +
        issues.map((i) => `  - ${formatIssue(i)}`).join('\n'),
    );
  }
}

export function formatIssue(i: ConfigIssue): string {
  const parts = [`${i.field}: ${i.problem}`];
  if (i.value !== undefined) parts.push(`got ${i.value}`);
  if (i.allowed) parts.push(`allowed: ${i.allowed}`);
  return parts.join('; ');
}

/** How a found value is shown in a message: secrets as ***, long values cut. */
export function show(value: unknown, secret: boolean): string {
  if (secret) return '***';
  let text: string;
  try {
    text =
      typeof value === 'string' ? JSON.stringify(maskUrlCredentials(value)) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** http://user:pass@host → http://user:***@host: a URL's password never reaches a message. */
export function maskUrlCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi, '$1***@');
}

/** Collects issues while a config is read, so every problem is reported at once. */
export class Issues {
  readonly list: ConfigIssue[] = [];

  add(field: string, problem: string, opts: { value?: unknown; secret?: boolean; allowed?: string } = {}): undefined {
    this.list.push({
      field,
      problem,
      ...('value' in opts ? { value: show(opts.value, opts.secret === true) } : {}),
      ...(opts.allowed ? { allowed: opts.allowed } : {}),
    });
    return undefined;
  }
}

/** A component's own option check: the problem is the fix, written once beside the option. */
export interface CheckOptions {
  /** Fields (dotted, prefix match) whose value is never shown. */
  secret?: readonly string[];
}

/**
 * Checks each top-level option of `raw` against its schema in `shape` on its own, so one bad
 * option does not hide another, and returns what parsed (defaults filled in) with every problem
 * added to `issues`: field (dotted path), the zod message (the fix) and the value found.
 */
export function checkEach<S extends Record<string, z.ZodType>>(
  shape: S,
  raw: Record<string, unknown>,
  issues: Issues,
  opts: CheckOptions = {},
): { [K in keyof S]?: z.output<S[K]> } {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(shape)) {
    const r = schema.safeParse(raw[key]);
    if (r.success) {
      out[key] = r.data;
      continue;
    }
    for (const i of r.error.issues) {
      const path = [key, ...i.path.map(String)];
      const field = path.join('.');
      const found = valueAt(raw, path);
      const secret = (opts.secret ?? []).some((s) => field === s || field.startsWith(`${s}.`));
      issues.add(field, i.message, found === undefined ? {} : { value: found, secret });
    }
  }
  return out as { [K in keyof S]?: z.output<S[K]> };
}

function valueAt(o: unknown, path: readonly string[]): unknown {
  let v = o;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}
