import type { Issues } from './issues';
import { insecureFileProblem, interpolate, type SecretSources } from './sources';

type Plain = Record<string, unknown>;

export interface StringRule {
  required?: boolean;
  default?: string;
  /** Accepted values (case-insensitive; returned lower-case). */
  oneOf?: readonly string[];
  pattern?: RegExp;
  /** Says what is allowed, for the message when `pattern` fails. */
  allowed?: string;
}

export interface NumberRule {
  default?: number;
  min: number;
  max: number;
  integer?: boolean;
  required?: boolean;
}

/** Shared by every nested reader of one file. */
export interface ReaderPolicy {
  /** Set once allowInsecureSecretFiles is read. */
  allowInsecureSecretFiles: boolean;
  /** Secret options whose value is written in the file itself. */
  literalSecrets: string[];
}

/**
 * Reads the options of one object of the config file with their types, recording an issue
 * (field path, masked value, what is allowed) for each bad one and returning undefined for it,
 * so reading goes on and every error is reported together. Every string has its ${env:NAME}
 * references replaced; secrets also accept the `<name>Env` and `<name>File` forms (sources.ts)
 * and are collected in `secrets` for log scrubbing. `finish()` reports options nobody read:
 * a misspelt option is an error, not a silently ignored line.
 */
export class Reader {
  private readonly known = new Set<string>();

  constructor(
    private readonly obj: Plain,
    readonly path: string,
    readonly issues: Issues,
    private readonly sources: SecretSources,
    readonly secrets: string[],
    readonly policy: ReaderPolicy = { allowInsecureSecretFiles: false, literalSecrets: [] },
  ) {}

  field(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  /** The value as written, with ${env:…} replaced in strings; undefined if absent (or null). */
  raw(key: string, secret = false): unknown {
    this.known.add(key);
    const v = this.obj[key];
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'string') return v;
    const { text, missing } = interpolate(v, this.sources.env);
    if (missing.length > 0) {
      this.issues.add(this.field(key), `refers to environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not set`, { allowed: 'set the variable, or write the value' });
      return undefined;
    }
    if (secret && text !== v) this.secrets.push(text);
    return text;
  }

  string(key: string, rule: StringRule = {}): string | undefined {
    const v = this.raw(key);
    if (v === undefined || v === '') {
      if (rule.required && rule.default === undefined) return this.issues.add(this.field(key), 'is required', { allowed: rule.allowed ?? (rule.oneOf ? rule.oneOf.join(', ') : 'a non-empty string') });
      return rule.default;
    }
    if (typeof v !== 'string' && typeof v !== 'number') return this.issues.add(this.field(key), 'must be a string', { value: v, allowed: rule.allowed });
    const s = String(v).trim();
    if (rule.oneOf) {
      const lower = s.toLowerCase();
      if (!rule.oneOf.includes(lower)) return this.issues.add(this.field(key), 'is not one of the allowed values', { value: v, allowed: rule.oneOf.join(', ') });
      return lower;
    }
    if (rule.pattern && !rule.pattern.test(s)) return this.issues.add(this.field(key), 'is not valid', { value: v, allowed: rule.allowed });
    return s;
  }

  number(key: string, rule: NumberRule): number | undefined {
    const v = this.raw(key);
    const range = `${rule.integer ? 'a whole number' : 'a number'} from ${rule.min} to ${rule.max}`;
    if (v === undefined || v === '') {
      if (rule.required) return this.issues.add(this.field(key), 'is required', { allowed: range });
      return rule.default;
    }
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < rule.min || n > rule.max || (rule.integer && !Number.isInteger(n))) {
      return this.issues.add(this.field(key), 'is out of range or not a number', { value: v, allowed: range });
    }
    return n;
  }

  boolean(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    this.issues.add(this.field(key), 'must be true or false', { value: v, allowed: 'true, false' });
    return def;
  }

  /** A list of strings; a single string counts as a one-item list, "a, b" as two. */
  list(key: string): string[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
      return v.map((x) => interpolate(x, this.sources.env).text.trim()).filter(Boolean);
    }
    return this.issues.add(this.field(key), 'must be a list of strings', { value: v });
  }

  /** A nested object; an absent one reads as empty (its defaults apply). */
  object(key: string): Reader {
    const v = this.raw(key);
    if (v !== undefined && (typeof v !== 'object' || Array.isArray(v))) {
      this.issues.add(this.field(key), 'must be a mapping of options', { value: v });
    }
    const obj = v && typeof v === 'object' && !Array.isArray(v) ? (v as Plain) : {};
    return new Reader(obj, this.field(key), this.issues, this.sources, this.secrets, this.policy);
  }

  /**
   * A secret, from exactly one of `<key>`, `<key>Env` or `<key>File`. Its value is added to
   * `secrets`; every message about it shows *** instead.
   */
  secret(key: string, required: boolean, what = 'a secret'): string | undefined {
    const before = this.issues.list.length;
    const direct = this.raw(key, true);
    // Written in the file itself (not ${env:…}): the config file is then a secret file too.
    if (typeof direct === 'string' && direct === this.obj[key]) this.policy.literalSecrets.push(this.field(key));
    const envName = this.raw(`${key}Env`);
    const file = this.raw(`${key}File`);
    const given = [direct !== undefined && key, envName !== undefined && `${key}Env`, file !== undefined && `${key}File`].filter(Boolean) as string[];
    if (given.length > 1) return this.issues.add(this.field(key), `is given ${given.length} ways (${given.join(', ')})`, { allowed: `exactly one of ${key}, ${key}Env, ${key}File` });
    let value: string | undefined;
    if (direct !== undefined) {
      if (typeof direct !== 'string') return this.issues.add(this.field(key), 'must be a string', { value: direct, secret: true });
      value = direct;
    } else if (envName !== undefined) {
      if (typeof envName !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(envName)) return this.issues.add(this.field(`${key}Env`), 'is not an environment variable name', { value: envName, allowed: 'letters, digits and _' });
      value = this.sources.env[envName];
      if (value === undefined || value === '') return this.issues.add(this.field(`${key}Env`), `names environment variable ${envName}, which is not set`, { allowed: `export ${envName}=…` });
    } else if (file !== undefined) {
      if (typeof file !== 'string') return this.issues.add(this.field(`${key}File`), 'must be a file path', { value: file });
      const insecure = insecureFileProblem(file, this.sources, this.policy.allowInsecureSecretFiles);
      if (insecure) {
        return this.issues.add(this.field(`${key}File`), insecure.problem, { value: file, allowed: insecure.allowed });
      }
      try {
        value = this.sources.readFile(file).replace(/\r?\n$/, '');
      } catch (err) {
        return this.issues.add(this.field(`${key}File`), `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { value: file, allowed: 'a readable file' });
      }
      if (value === '') return this.issues.add(this.field(`${key}File`), 'is empty', { value: file });
    }
    if (value === undefined || value === '') {
      // A reference that failed was already reported: "is required" would only repeat it.
      if (required && this.issues.list.length === before) return this.issues.add(this.field(key), 'is required', { allowed: `${what}: ${key}: "\${env:NAME}", ${key}Env: NAME or ${key}File: /path` });
      return undefined;
    }
    this.secrets.push(value);
    return value;
  }

  /** A file's content (a PEM named by a *File option); throws when unreadable. */
  readFile(path: string): string {
    return this.sources.readFile(path);
  }

  /** Whether an issue was already reported for this option (or its Env/File forms). */
  reported(key: string): boolean {
    const f = this.field(key);
    return this.issues.list.some((i) => i.field === f || i.field === `${f}Env` || i.field === `${f}File`);
  }

  /** Marks options as known without reading them (read elsewhere, or only informative). */
  allow(...keys: string[]): void {
    for (const k of keys) this.known.add(k);
  }

  /** Reports every option of this object that no reader asked for. */
  finish(): void {
    for (const key of Object.keys(this.obj)) {
      if (!this.known.has(key)) this.issues.add(this.field(key), 'is not a known option', { allowed: [...this.known].sort().join(', ') });
    }
  }
}
