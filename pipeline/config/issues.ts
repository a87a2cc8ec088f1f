import { FatalError } from '../../kernel/errors';

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
