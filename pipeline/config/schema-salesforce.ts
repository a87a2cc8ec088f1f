import { z } from 'zod';
import { LOGIN_HISTORY_MODES } from '../../connectors/salesforce/access';
import { EXTRACTOR_DEFAULTS, USER_STATUSES } from '../../connectors/salesforce/config';
import { CUSTOM_FIELD_TYPES } from '../../schemas/mapping-choice';
import { REPEATS, WEEKDAYS, parseStartTime } from '../schedule/spec';
import { isValidTimeZone } from '../schedule/zone';
import { anyValue, bool, group, list, num, oneOf, secret, str } from './options';

/** The Salesforce and schedule options of the config schema (schema.ts): the connector's file only. */
const C = 'connector' as const;
const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };

/** '24h', '90m', '7d', '30s' or '0' in ms; null when it is none of these (or over a year). */
export function parseDurationMs(v: string): number | null {
  const m = /^\s*(\d{1,6})\s*([smhd]?)\s*$/.exec(v);
  if (!m || (m[2] === '' && m[1] !== '0')) return null;
  const ms = Number(m[1]) * (m[2] === '' ? 0 : UNIT_MS[m[2]]);
  return ms <= 366 * DAY_MS ? ms : null;
}

export const SALESFORCE_OPTIONS = {
  oauthFlow: oneOf(['password', 'client_credentials', 'jwt'], {
    role: C,
    default: 'password',
    doc:
      'how the connector logs in: jwt (recommended: a certificate, no password), client_credentials, ' +
      'or password (retired by Salesforce on 2027-02-20)',
  }),
  salesforceUrl: str({
    role: C,
    required: true,
    doc: 'the org\'s login URL (the product\'s "Salesforce URL")',
    example: 'https://acme.my.salesforce.com',
    allowed: 'https://login.salesforce.com, https://test.salesforce.com or https://MyDomain.my.salesforce.com',
  }),
  consumerKey: str({
    role: C,
    required: true,
    doc: "the external client (connected) app's consumer key",
    allowed: "the connected app's consumer key",
  }),
  ...secret('consumerSecret', {
    role: C,
    what: "the connected app's consumer secret",
    doc: "the connected app's consumer secret (not used by jwt)",
  }),
  username: str({
    role: C,
    doc: 'the integration user (password and jwt flows)',
    example: 'integration@acme.com',
    allowed: 'the Salesforce username of the integration user',
  }),
  ...secret('password', {
    role: C,
    what: "the user's password",
    doc: "the integration user's password (password flow)",
  }),
  ...secret('securityToken', {
    role: C,
    what: 'a secret',
    doc: "the user's security token, appended to the password (password flow; may be empty)",
  }),
  ...secret('privateKey', {
    role: C,
    what: 'the PEM private key whose certificate is on the connected app',
    doc: 'PEM private key whose certificate is on the connected app (jwt flow)',
  }),
  jwtAudience: str({
    role: C,
    doc:
      'JWT `aud` (jwt flow); default https://login.salesforce.com, or https://test.salesforce.com for a sandbox; ' +
      'set it for an Experience Cloud site',
    shownDefault: 'by login URL',
  }),
  userStatus: list({
    role: C,
    item: z.enum(USER_STATUSES, { error: 'has an unknown status' }),
    min: 1,
    minProblem: 'must name at least one status',
    lower: true,
    allowed: USER_STATUSES.join(', '),
    shownDefault: USER_STATUSES.join(', '),
    doc: 'which users to import (the product\'s "User status"); users of other statuses are removed from Neurons',
    example: 'active, frozen',
  }),
  streamsFullScanEvery: str({
    role: C,
    default: '24h',
    doc:
      'a routine run reads only the rows of the large snapshot streams (permission set and permission set ' +
      'licence assignments) changed since the last run (plus an Id-only list for removals) while the last ' +
      'full read of the stream is younger than this; parent fields (PermissionSet.Label) refresh at the next ' +
      'full read. 0 = read every row in full on every run',
    check: [
      {
        ok: (v) => parseDurationMs(v) !== null,
        problem: 'is not a duration',
        allowed: 'a whole number with a unit s, m, h or d (e.g. 24h, 90m, 7d), or 0',
      },
    ],
  }),
  usersFullScanEvery: str({
    role: C,
    default: '24h',
    doc:
      'a routine run reads only the users changed since the last run (plus an Id-only list for removals) ' +
      'while the last full read of every user is younger than this; parent fields (Profile.Name, ' +
      'UserRole.Name) refresh at the next full read. 0 = read every user in full on every run',
    check: [
      {
        ok: (v) => parseDurationMs(v) !== null,
        problem: 'is not a duration',
        allowed: 'a whole number with a unit s, m, h or d (e.g. 24h, 90m, 7d), or 0',
      },
    ],
  }),
  apiVersion: str({
    role: C,
    default: EXTRACTOR_DEFAULTS.apiVersion,
    pattern: /^\d{2,3}\.0$/,
    allowed: "'NN.0', at least 47.0 (Bulk API 2.0 query)",
    check: [{ ok: (v) => Number(v) >= 47, problem: 'is too old for Bulk API 2.0 query', allowed: '47.0 or later' }],
    doc: 'REST/Bulk API version; an org serving only older ones is used at its newest (47.0 at least)',
  }),
  loginHistory: oneOf(LOGIN_HISTORY_MODES, {
    role: C,
    default: EXTRACTOR_DEFAULTS.loginHistory,
    doc:
      'auto: read LoginHistory when the user may, else go on without login events (a warning); ' +
      'enabled: refuse to run without it; disabled: never read',
  }),
  apiReserve: num({
    role: C,
    min: 0,
    max: 0.9,
    default: EXTRACTOR_DEFAULTS.apiReserve,
    doc: "stop before the org's remaining daily API requests fall below this share of its limit",
  }),
  apiBudgetShare: num({
    role: C,
    min: 0.01,
    max: 1,
    doc: "optional cap: stop before the org's daily API usage passes this share of its limit",
    example: '0.5',
  }),
  apiMaxCalls: num({
    role: C,
    min: 1,
    max: 10_000_000,
    int: true,
    doc: 'optional cap: the most Salesforce calls per extraction',
    example: '2000',
  }),
  loginHistoryLookbackDays: num({
    role: C,
    min: 1,
    max: 3650,
    int: true,
    default: EXTRACTOR_DEFAULTS.loginLookbackDays,
    doc: 'first run (no watermark): how far back LoginHistory is read',
  }),
  salesforceProxy: group(
    {
      url: str({
        doc: 'the proxy, without credentials',
        example: 'http://proxy.example.com:3128',
        allowed: 'http://proxy.example.com:3128 (no credentials in it)',
      }),
      username: str({ doc: 'the proxy user' }),
      ...secret('password', { what: "the proxy user's password", doc: "the proxy user's password" }),
    },
    {
      role: C,
      whenGiven: true,
      doc: 'an HTTP proxy for every Salesforce call (default: HTTPS_PROXY / NO_PROXY from the environment)',
    },
  ),
  fields: anyValue(
    z.strictObject({
      include: z.record(z.string(), z.enum(CUSTOM_FIELD_TYPES)).optional(),
      exclude: z.array(z.string()).optional(),
      hash: z.array(z.string()).optional(),
    }),
    {
      role: C,
      doc:
        `custom User fields to add (include: {Name__c: type}, type one of ${CUSTOM_FIELD_TYPES.join(', ')}), ` +
        'fields never read (exclude: [AboutMe]), text fields hashed (hash: [Email])',
    },
  ),
  ...secret('hashSalt', {
    role: C,
    what: 'a secret salt for fields.hash (at least 16 characters)',
    doc: 'HMAC-SHA-256 salt of fields.hash (required with it; at least 16 characters)',
  }),
  userFilter: group(
    {
      userTypes: list({ doc: 'only these user types', example: 'Standard' }),
      excludeUserTypes: list({ doc: 'never these user types', example: 'AutomatedProcess, Guest' }),
      profiles: list({ doc: 'only users of these profiles', example: 'Standard User' }),
      where: str({
        doc: 'a SOQL condition on User, checked against describe at connect',
        example: "Department = 'Sales'",
      }),
    },
    { role: C, doc: 'which users beyond their status' },
  ),
  salesforceTuning: group(
    {
      pageSize: num({
        min: 1,
        max: 1_000_000,
        int: true,
        doc: 'maxRecords per result page',
        shownDefault: 'Salesforce decides',
      }),
      parallelPages: num({
        min: 1,
        max: 10,
        int: true,
        doc: 'result pages downloaded at once (API 58.0+)',
        shownDefault: String(EXTRACTOR_DEFAULTS.parallelPages),
      }),
      jobTimeoutMs: num({
        min: 100,
        max: DAY_MS,
        int: true,
        doc: 'a query job not done after this fails the run',
        shownDefault: String(EXTRACTOR_DEFAULTS.jobTimeoutMs),
      }),
      pollInitialMs: num({
        min: 1,
        max: 600_000,
        int: true,
        doc: 'first wait between job polls',
        shownDefault: String(EXTRACTOR_DEFAULTS.pollInitialMs),
      }),
      pollMaxMs: num({
        min: 1,
        max: 600_000,
        int: true,
        doc: 'longest wait between job polls',
        shownDefault: String(EXTRACTOR_DEFAULTS.pollMaxMs),
      }),
      requestTimeoutMs: num({
        min: 100,
        max: 3_600_000,
        int: true,
        doc: 'wait for a response or its next bytes',
        shownDefault: String(EXTRACTOR_DEFAULTS.requestTimeoutMs),
      }),
      retryAttempts: num({
        min: 1,
        max: 20,
        int: true,
        doc: 'attempts of a repeatable request',
        shownDefault: String(EXTRACTOR_DEFAULTS.retryAttempts),
      }),
      retryInitialMs: num({
        min: 1,
        max: 60_000,
        int: true,
        doc: 'first retry backoff (jitter, doubling)',
        shownDefault: String(EXTRACTOR_DEFAULTS.retryInitialMs),
      }),
      usersOverlapMs: num({
        min: 0,
        max: DAY_MS,
        int: true,
        doc: 'incremental users read: SystemModstamp re-read window for late-committed changes',
        shownDefault: String(EXTRACTOR_DEFAULTS.usersOverlapMs),
      }),
      loginOverlapMs: num({
        min: 0,
        max: DAY_MS,
        int: true,
        doc: 'LoginHistory re-read window for late-visible rows',
        shownDefault: String(EXTRACTOR_DEFAULTS.loginOverlapMs),
      }),
    },
    { role: C, doc: "the extractor's tuning" },
  ),
};

export const SCHEDULE_OPTIONS = {
  repeats: oneOf(REPEATS, {
    role: C,
    default: 'daily',
    doc: 'the product\'s "Repeats": weekly needs weekday, monthly dayOfMonth, cron cron',
  }),
  startTime: str({
    role: C,
    default: '02:00',
    doc: 'the product\'s "Start time", in timeZone (hourly: its minute)',
    check: [
      {
        ok: (v) => parseStartTime(v) !== null,
        problem: 'is not a time of day',
        allowed: 'HH:MM on the 24-hour clock, e.g. 02:00',
      },
    ],
  }),
  timeZone: str({
    role: C,
    default: 'UTC',
    doc: 'IANA time zone of startTime (DST handled)',
    example: 'Europe/Berlin',
    check: [
      {
        ok: isValidTimeZone,
        problem: 'is not a known IANA time zone',
        allowed: 'e.g. UTC, Europe/Berlin, America/New_York',
      },
    ],
  }),
  weekday: oneOf(WEEKDAYS, { role: C, doc: 'repeats weekly: the day', example: 'sunday' }),
  dayOfMonth: num({
    role: C,
    min: 1,
    max: 31,
    int: true,
    doc: 'repeats monthly: the day (a day the month lacks means its last day)',
    example: '1',
  }),
  cron: str({ role: C, doc: 'repeats cron: a 5-field expression, in timeZone', example: '30 1 * * 1-5' }),
  active: bool({ role: C, default: true, doc: 'the product\'s "Active": false starts no run until it is true again' }),
};
