/**
 * The secret scrubber. A secret leaves the process in more forms than the one it was configured
 * in: URL-encoded inside a database URL or an echoed help link, form-encoded in an OAuth body a
 * server quotes back, JSON-escaped once a message is serialised, base64 in a basic-auth header.
 * Every known secret is removed in each of those forms; credentials that look like credentials
 * (a URL's password, `password=` query parameters, Authorization values) are masked even when
 * the secret is not known, e.g. a session token a library put in a message.
 */

/** Shorter values are not scrubbed: replacing "abc" everywhere would garble messages and hide nothing. */
export const MIN_SECRET_LENGTH = 4;
const MASK = '***';

/** The forms a secret can take on its way out; the raw value first. */
export function secretForms(secret: string): string[] {
  const forms = [
    secret,
    encodeURIComponent(secret),
    encodeURI(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(JSON.stringify(secret).slice(1, -1)).slice(1, -1),
    Buffer.from(secret).toString('base64'),
  ];
  return [...new Set(forms)].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/** Credentials recognisable by their shape, whatever their value. */
const SHAPES: [RegExp, string][] = [
  // scheme://user:password@host → scheme://user:***@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@"']*:)[^\s/@"']+@/gi, `$1${MASK}@`],
  // ?password=…&client_secret=… in URLs and form bodies (raw or encoded value up to the next separator)
  [
    /(\b(?:password|passwd|pwd|client_secret|secret|(?:access_|refresh_)?token|assertion|sig|api_?key)=)[^&\s"'<>]+/gi,
    `$1${MASK}`,
  ],
  // Authorization: Basic …, Bearer …
  [/(\b(?:Basic|Bearer)\s+)[A-Za-z0-9+/=._~!-]{8,}/g, `$1${MASK}`],
];

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Removes a set of secrets, in all their forms, from text and structured values. */
export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | null = null;

  constructor(secrets: Iterable<string> = []) {
    this.add(...secrets);
  }

  add(...secrets: (string | undefined | null)[]): this {
    let changed = false;
    for (const s of secrets) {
      if (typeof s !== 'string' || s.length < MIN_SECRET_LENGTH || this.secrets.has(s)) continue;
      this.secrets.add(s);
      changed = true;
    }
    if (changed) {
      // Longest first: a secret that contains another (password+token) goes whole.
      const forms = [...new Set([...this.secrets].flatMap(secretForms))].sort((a, b) => b.length - a.length);
      this.pattern = new RegExp(forms.map(escapeRe).join('|'), 'g');
    }
    return this;
  }

  scrub(text: string): string {
    let out = this.pattern ? text.replace(this.pattern, MASK) : text;
    for (const [re, to] of SHAPES) out = out.replace(re, to);
    return out;
  }

  /** A copy of `value` with secret-looking fields masked and every string scrubbed. */
  redact(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.scrub(value);
    if (depth > 8 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.redact(v, depth + 1));
    if (value instanceof Error)
      return {
        name: value.name,
        message: this.scrub(value.message),
        ...('code' in value ? { code: (value as { code: unknown }).code } : {}),
      };
    if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = SECRET_KEY.test(k) && v != null ? MASK : this.redact(v, depth + 1);
    return out;
  }
}

/** Field names whose values are always masked, wherever they appear. */
export const SECRET_KEY = /(password|secret|token|assertion|authorization|private_?key|api_?key|sasl|credential)/i;

/**
 * The secrets of every config this process loaded. Messages that leave the process by another
 * way than the logger (the run's error in the state topic, a dead-letter reason) are scrubbed
 * with it: those are built deep in the pipeline, far from the config, and a secret must not get
 * out because one call site forgot to pass the list along.
 */
const processRedactor = new Redactor();

export function registerSecrets(secrets: Iterable<string>): void {
  processRedactor.add(...secrets);
}

/** Scrubs text with every secret registered in this process (and the credential shapes). */
export function scrubSecrets(text: string): string {
  return processRedactor.scrub(text);
}
