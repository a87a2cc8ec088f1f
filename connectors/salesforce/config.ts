/**
 * The extractor's typed options, validated once at start-up. A bad value fails at once with a
 * FatalError (code CONFIG_INVALID) that names the option and the fix. Defaults live here only.
 */
import { z } from 'zod';
import { checkEach, ConfigError, Issues } from '../../kernel/config-issues';
import { FatalError } from '../../kernel/errors';
import { LOGIN_HISTORY_MODES, type LoginHistoryMode } from './access';
import { DEFAULT_LOGIN_FIELDS, DEFAULT_USER_FIELDS } from './fields';
import type { ProxyOptions } from './proxy';
import { parseWhere, type UserFilterOptions } from './user-filter';
import { NO_FIELD_CHOICE, type FieldChoice } from '../../schemas/mapping-choice';
import { USER_STATUSES, type UserStatus } from './user-status';

export { USER_STATUSES, type UserStatus } from './user-status';

export type AuthOptions =
  | {
      flow: 'password';
      consumerKey: string;
      consumerSecret: string;
      username: string;
      password: string;
      /** Appended to the password, as Salesforce's password flow expects. May be ''. */
      securityToken?: string;
    }
  | { flow: 'client_credentials'; consumerKey: string; consumerSecret: string }
  | {
      flow: 'jwt';
      consumerKey: string;
      username: string;
      /** PEM of the RSA private key whose certificate is on the connected app. */
      privateKeyPem: string;
      /** JWT `aud`; default https://login.salesforce.com, or https://test.salesforce.com for a sandbox
       *  login URL (auth.ts defaultJwtAudience). Set it for an Experience Cloud site. */
      audience?: string;
    };

/** What a caller passes in. Everything but loginUrl and auth has a default. */
export interface ExtractorOptions {
  /** https://login.salesforce.com, https://test.salesforce.com (sandbox) or a My Domain URL. */
  loginUrl: string;
  auth: AuthOptions;
  /** REST/Bulk API version, 'NN.0' (default '62.0'; at least 47.0 for Bulk API 2.0 query). */
  apiVersion?: string;
  /** LoginHistory: auto (default: read it when the user may, else go on without login events, with a
   *  warning), enabled (refuse to run without it) or disabled (never read). */
  loginHistory?: LoginHistoryMode;
  /** HTTP proxy for every Salesforce call (default: HTTPS_PROXY / HTTP_PROXY and NO_PROXY from the environment). */
  proxy?: ProxyOptions;
  /** Custom User fields to add, fields never to read, fields to hash (schemas/mapping-choice.ts,
   *  validated against the mapping by the config loader). */
  fields?: FieldChoice;
  /** Salt (a secret) of fields.hash: HMAC-SHA-256(salt, value). Required when fields.hash is not empty. */
  hashSalt?: string;
  /** Which users beyond their status: user types, profiles, a WHERE condition (user-filter.ts). */
  userFilter?: UserFilterOptions;
  /** Which users to extract (default all three). */
  userStatuses?: readonly string[];
  /** User fields wanted (default DEFAULT_USER_FIELDS); see fields.ts for the syntax. */
  userFields?: readonly string[];
  /** LoginHistory fields wanted (default DEFAULT_LOGIN_FIELDS). */
  loginFields?: readonly string[];
  /** First run (no watermark): how far back LoginHistory is read, in days (default 30). */
  loginLookbackDays?: number;
  /** LoginHistory look-back window: re-read from watermark − this, in ms, for late-visible rows
   *  (default 3600000 = 1 h). */
  loginOverlapMs?: number;
  /** A routine run reads only the users changed since the last one while the last full users read is
   *  younger than this, in ms (default 86400000 = 24 h; 0 = every run reads every user in full). */
  usersFullScanEveryMs?: number;
  /** The same for the declared snapshot streams read incrementally (default 24 h; 0 = always in full). */
  streamsFullScanEveryMs?: number;
  /** Incremental users read: re-read from the SystemModstamp watermark − this, in ms, for rows a
   *  transaction committed late (default 300000 = 5 min). */
  usersOverlapMs?: number;
  /** A query job not finished after this many ms is aborted and the run fails (default 600000). */
  jobTimeoutMs?: number;
  /** First and longest wait between job polls, in ms (defaults 500 and 10000). */
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** maxRecords per result page (default: none, Salesforce decides). */
  pageSize?: number;
  /** Result pages downloaded at once via resultPages (API ≥ 58.0); 1 = sequential by locator (default 3). */
  parallelPages?: number;
  /** The extractor stops before the org's remaining daily API requests would fall below this share
   *  of its daily limit (default 0.1, from 0 to 0.9): the budget the org's other users keep. */
  apiReserve?: number;
  /** Optional cap: stop before the org's daily API usage passes this share of its limit (no default). */
  apiBudgetShare?: number;
  /** Optional cap: the most calls this connector makes per extractor (no default). */
  apiMaxCalls?: number;
  /** Wait for a response, or for the next bytes of a body, before giving up, in ms (default 60000). */
  requestTimeoutMs?: number;
  /** Attempts for a request that is safe to repeat, first included (default 5). */
  retryAttempts?: number;
  /** First retry backoff in ms (default 500; full jitter, doubling, capped at 10 s). */
  retryInitialMs?: number;
}

export type ExtractorConfig = Required<
  Omit<
    ExtractorOptions,
    'pageSize' | 'userStatuses' | 'userFields' | 'loginFields' | 'apiBudgetShare' | 'apiMaxCalls' | 'proxy' | 'hashSalt'
  >
> & {
  hashSalt: string | undefined;
  proxy: ProxyOptions | undefined;
  pageSize: number | undefined;
  apiBudgetShare: number | undefined;
  apiMaxCalls: number | undefined;
  userStatuses: readonly UserStatus[];
  userFields: readonly string[];
  loginFields: readonly string[];
};

export const EXTRACTOR_DEFAULTS = {
  apiVersion: '62.0',
  loginHistory: 'auto',
  loginLookbackDays: 30,
  // look-back window for late-visible LoginHistory rows (pipeline/login-ids.ts sizes its state)
  loginOverlapMs: 60 * 60_000,
  // how stale parent fields (Profile.Name, UserRole.Name) may get: they refresh at the next full read
  usersFullScanEveryMs: 24 * 3600_000,
  streamsFullScanEveryMs: 24 * 3600_000,
  // commit lag of a User change behind its SystemModstamp that an incremental read still catches
  usersOverlapMs: 5 * 60_000,
  jobTimeoutMs: 10 * 60_000,
  pollInitialMs: 500,
  pollMaxMs: 10_000,
  parallelPages: 3,
  apiReserve: 0.1,
  requestTimeoutMs: 60_000,
  retryAttempts: 5,
  retryInitialMs: 500,
} as const;

function invalid(option: string, problem: string): never {
  throw new FatalError('CONFIG_INVALID', `salesforce.${option}: ${problem}`);
}

function nonEmptyString(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.trim() === '') invalid(option, 'is required (a non-empty string)');
  return value;
}

/** Validates a status list: unknown values fail, naming the allowed ones; duplicates collapse. */
export function parseUserStatuses(value: unknown): UserStatus[] {
  if (value === undefined) return [...USER_STATUSES];
  if (!Array.isArray(value) || value.length === 0) {
    invalid('userStatuses', `must be a non-empty list of: ${USER_STATUSES.join(', ')}`);
  }
  const out = new Set<UserStatus>();
  for (const v of value) {
    const s = typeof v === 'string' ? v.trim().toLowerCase() : v;
    if (!(USER_STATUSES as readonly unknown[]).includes(s)) {
      invalid('userStatuses', `unknown status ${JSON.stringify(v)}; allowed values: ${USER_STATUSES.join(', ')}`);
    }
    out.add(s as UserStatus);
  }
  return USER_STATUSES.filter((s) => out.has(s));
}

export function parseProxy(value: unknown): ProxyOptions | undefined {
  if (value === undefined) return undefined;
  const p = value as Partial<ProxyOptions>;
  const raw = nonEmptyString(p?.url, 'proxy.url');
  const url = (() => {
    try {
      return new URL(raw);
    } catch {
      return invalid('proxy.url', 'is not a URL (expected e.g. http://proxy.example.com:3128)');
    }
  })();
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    invalid('proxy.url', 'must be an http:// or https:// proxy URL');
  if (url.username || url.password)
    invalid('proxy.url', 'must not carry credentials: set proxy.username and the password as a secret');
  if (p.password !== undefined && p.username === undefined)
    invalid('proxy.username', 'is required with a proxy password');
  return {
    url: url.origin,
    ...(p.username !== undefined ? { username: nonEmptyString(p.username, 'proxy.username') } : {}),
    ...(p.password !== undefined ? { password: String(p.password) } : {}),
  };
}

export function parseLoginHistoryMode(value: unknown): LoginHistoryMode {
  if (value === undefined) return EXTRACTOR_DEFAULTS.loginHistory;
  if (!(LOGIN_HISTORY_MODES as readonly unknown[]).includes(value)) {
    invalid(
      'loginHistory',
      `unknown value ${JSON.stringify(value)}; allowed values: ${LOGIN_HISTORY_MODES.join(', ')}`,
    );
  }
  return value as LoginHistoryMode;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const GENERIC_LOGIN_HOSTS = new Set(['login.salesforce.com', 'test.salesforce.com']);

/**
 * Accepts production (login.salesforce.com), sandbox (test.salesforce.com) and My Domain URLs
 * (https only; plain http only for a loopback simulator). Returns it without a trailing slash.
 */
export function parseLoginUrl(value: unknown, flow: AuthOptions['flow']): string {
  const raw = nonEmptyString(value, 'loginUrl');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return invalid(
      'loginUrl',
      `is not a URL (expected e.g. https://login.salesforce.com or https://MyDomain.my.salesforce.com)`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    invalid('loginUrl', 'must use https');
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    invalid(
      'loginUrl',
      'must be the bare origin, e.g. https://MyDomain.my.salesforce.com (no path, query or credentials)',
    );
  }
  if (/\.lightning\.force\.com$/i.test(url.hostname)) {
    invalid(
      'loginUrl',
      'a Lightning URL (*.lightning.force.com) cannot log in; use the My Domain URL (*.my.salesforce.com)',
    );
  }
  if (flow === 'client_credentials' && GENERIC_LOGIN_HOSTS.has(url.hostname.toLowerCase())) {
    invalid(
      'loginUrl',
      "the client credentials flow only works on the org's My Domain URL (https://MyDomain.my.salesforce.com)",
    );
  }
  return url.origin;
}

/** jwtAudience: an https URL; a My Domain is refused because Salesforce refuses it as `aud`. */
export function parseAudience(value: unknown): string {
  const raw = nonEmptyString(value, 'auth.audience');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return invalid('auth.audience', 'is not a URL (e.g. https://login.salesforce.com or an Experience Cloud site URL)');
  }
  if (url.protocol !== 'https:') invalid('auth.audience', 'must use https');
  if (/\.my\.salesforce\.com$/i.test(url.hostname)) {
    invalid(
      'auth.audience',
      'Salesforce refuses a My Domain URL as JWT audience; leave jwtAudience out (the default is ' +
        'https://login.salesforce.com, or https://test.salesforce.com for a sandbox) or name an Experience Cloud site',
    );
  }
  return raw.replace(/\/$/, '');
}

const required = (what = 'a non-empty string') =>
  z.string({ error: `is required (${what})` }).refine((v) => v.trim() !== '', { error: `is required (${what})` });

/** A number option: its default defined once (EXTRACTOR_DEFAULTS), its range in its message. */
function range(min: number, max: number, integer = true) {
  const fix = `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
  const n = z.number({ error: fix }).min(min, { error: fix }).max(max, { error: fix });
  return integer ? n.int({ error: fix }) : n;
}

/** An option checked by one of the value parsers above: its FatalError becomes a zod issue. */
function parsedBy<T>(parse: (v: unknown) => T) {
  return z.unknown().transform((v, ctx): T => {
    try {
      return parse(v);
    } catch (err) {
      const m = /^salesforce\.([A-Za-z.]+): (.*)$/s.exec((err as Error).message);
      if (!(err instanceof FatalError) || !m) throw err;
      ctx.issues.push({ code: 'custom', message: m[2], path: m[1].split('.').slice(1), input: v });
      return z.NEVER;
    }
  });
}

const fieldList = (def: readonly string[]) =>
  z
    .array(required('a field name'), { error: 'must be a non-empty list of field names' })
    .min(1, { error: 'must be a non-empty list of field names' })
    .transform((l) => l.map((f) => f.trim()) as readonly string[])
    .default(def);

const names = z.array(required('a name'), { error: 'must be a list of names' }).optional();

const AUTH = z.discriminatedUnion(
  'flow',
  [
    z.looseObject({
      flow: z.literal('password'),
      consumerKey: required(),
      consumerSecret: required(),
      username: required(),
      password: required(),
      // Appended to the password; may be ''.
      securityToken: z.string({ error: 'must be a string' }).default(''),
    }),
    z.looseObject({ flow: z.literal('client_credentials'), consumerKey: required(), consumerSecret: required() }),
    z.looseObject({
      flow: z.literal('jwt'),
      consumerKey: required(),
      username: required(),
      privateKeyPem: required().refine((v) => v.includes('PRIVATE KEY'), {
        error: 'must be a PEM private key (-----BEGIN PRIVATE KEY-----)',
      }),
      audience: z
        .string()
        .transform((v, ctx) => {
          try {
            return parseAudience(v);
          } catch (err) {
            ctx.issues.push({ code: 'custom', message: (err as Error).message.replace(/^[^:]*: /, ''), input: v });
            return z.NEVER;
          }
        })
        .optional(),
    }),
  ],
  { error: 'unknown flow; allowed values: password, client_credentials, jwt' },
);

/**
 * The extractor's options, each with its rule and its default (EXTRACTOR_DEFAULTS, the field
 * lists of fields.ts). Checked option by option (kernel/config-issues.ts checkEach), so every
 * mistake is reported at once. loginUrl and hashSalt depend on other options: checked after.
 */
const EXTRACTOR_SHAPE = {
  auth: z
    .unknown()
    .pipe(z.object({}, { error: 'is required' }).loose())
    .pipe(AUTH),
  apiVersion: z
    .string({ error: "must look like '62.0' and be at least 47.0 (Bulk API 2.0 query)" })
    .refine((v) => /^\d{2,3}\.0$/.test(v) && Number(v) >= 47, {
      error: "must look like '62.0' and be at least 47.0 (Bulk API 2.0 query)",
    })
    .default(EXTRACTOR_DEFAULTS.apiVersion),
  userStatuses: parsedBy(parseUserStatuses),
  loginHistory: parsedBy(parseLoginHistoryMode),
  proxy: parsedBy(parseProxy),
  userFilter: z
    .looseObject({
      userTypes: names,
      excludeUserTypes: names,
      profiles: names,
      where: z
        .string({ error: 'must be a text condition' })
        .transform((w, ctx) => {
          if (w.trim() === '') return w;
          try {
            parseWhere(w); // syntax now; fields and types against describe at connect
          } catch (err) {
            ctx.issues.push({
              code: 'custom',
              message: (err as Error).message.replace(/^userFilter\.where: /, ''),
              input: w,
            });
          }
          return w;
        })
        .optional(),
    })
    .default({}),
  fields: z.custom<FieldChoice>().default(NO_FIELD_CHOICE),
  hashSalt: z.string().optional(),
  userFields: fieldList(DEFAULT_USER_FIELDS),
  loginFields: fieldList(DEFAULT_LOGIN_FIELDS),
  loginLookbackDays: range(1, 3650).default(EXTRACTOR_DEFAULTS.loginLookbackDays),
  loginOverlapMs: range(0, 24 * 3600_000).default(EXTRACTOR_DEFAULTS.loginOverlapMs),
  usersFullScanEveryMs: range(0, 366 * 24 * 3600_000).default(EXTRACTOR_DEFAULTS.usersFullScanEveryMs),
  streamsFullScanEveryMs: range(0, 366 * 24 * 3600_000).default(EXTRACTOR_DEFAULTS.streamsFullScanEveryMs),
  usersOverlapMs: range(0, 24 * 3600_000).default(EXTRACTOR_DEFAULTS.usersOverlapMs),
  jobTimeoutMs: range(100, 24 * 3600_000).default(EXTRACTOR_DEFAULTS.jobTimeoutMs),
  pollInitialMs: range(1, 600_000).default(EXTRACTOR_DEFAULTS.pollInitialMs),
  pollMaxMs: range(1, 600_000).default(EXTRACTOR_DEFAULTS.pollMaxMs),
  pageSize: range(1, 1_000_000).optional(),
  parallelPages: range(1, 10).default(EXTRACTOR_DEFAULTS.parallelPages),
  apiBudgetShare: range(0.01, 1, false).optional(),
  apiReserve: range(0, 0.9, false).default(EXTRACTOR_DEFAULTS.apiReserve),
  apiMaxCalls: range(1, 10_000_000).optional(),
  requestTimeoutMs: range(100, 3600_000).default(EXTRACTOR_DEFAULTS.requestTimeoutMs),
  retryAttempts: range(1, 20).default(EXTRACTOR_DEFAULTS.retryAttempts),
  retryInitialMs: range(1, 60_000).default(EXTRACTOR_DEFAULTS.retryInitialMs),
};

/** Fields whose value is never shown in a message. */
const SECRET_FIELDS = [
  'auth.consumerSecret',
  'auth.password',
  'auth.securityToken',
  'auth.privateKeyPem',
  'hashSalt',
  'proxy.password',
];

/**
 * Validates options and fills in defaults. Throws a ConfigError (FatalError CONFIG_INVALID)
 * listing every problem, each as `salesforce.<option>: <problem>`; a secret is never shown.
 */
export function parseExtractorConfig(input: ExtractorOptions): ExtractorConfig {
  const issues = new Issues();
  const raw = (input ?? {}) as unknown as Record<string, unknown>;
  const v = checkEach(EXTRACTOR_SHAPE, raw, issues, { secret: SECRET_FIELDS });
  let loginUrl: string | undefined;
  try {
    // Without a valid auth the flow-independent rules still apply (the flow's own only with it).
    loginUrl = parseLoginUrl(input.loginUrl, v.auth?.flow ?? 'password');
  } catch (err) {
    if (!(err instanceof FatalError)) throw err;
    issues.add('loginUrl', err.message.replace(/^salesforce\.loginUrl: /, ''), { value: input.loginUrl });
  }
  if (v.fields && v.fields.hash.length > 0 && (typeof v.hashSalt !== 'string' || v.hashSalt.length < 16)) {
    issues.add(
      'hashSalt',
      'is required with fields.hash: a secret of at least 16 characters (hashSaltEnv or ' +
        'hashSaltFile), e.g. `openssl rand -hex 32`',
    );
  }
  if (issues.list.length > 0 || !loginUrl)
    throw new ConfigError(
      'extractor options',
      issues.list.map((i) => ({ ...i, field: `salesforce.${i.field}` })),
    );
  const c = v as Required<typeof v>;
  return {
    ...c,
    loginUrl,
    auth: c.auth as AuthOptions,
    userStatuses: c.userStatuses ?? [...USER_STATUSES],
    loginHistory: c.loginHistory ?? EXTRACTOR_DEFAULTS.loginHistory,
    proxy: c.proxy,
    userFilter: c.userFilter as UserFilterOptions,
    hashSalt: v.hashSalt,
    pageSize: v.pageSize,
    apiBudgetShare: v.apiBudgetShare,
    apiMaxCalls: v.apiMaxCalls,
  };
}

/** The configured secrets, for scrubbing them out of any message. */
export function configSecrets(auth: AuthOptions): string[] {
  switch (auth.flow) {
    case 'password':
      return [auth.consumerSecret, auth.password, auth.securityToken ?? '', auth.password + (auth.securityToken ?? '')];
    case 'client_credentials':
      return [auth.consumerSecret];
    case 'jwt':
      return [auth.privateKeyPem];
  }
}
