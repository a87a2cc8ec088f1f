import { LOGIN_HISTORY_MODES, type LoginHistoryMode } from '../../connectors/salesforce/access';
import { USER_STATUSES, parseLoginUrl, type AuthOptions, type ExtractorOptions } from '../../connectors/salesforce/config';
import { loadCatalog } from '../../schemas/catalog';
import { parseFieldChoice, type FieldChoice } from '../../schemas/mapping-choice';
import { ConnectorError } from '../../kernel/errors';
import type { Reader } from './reader';

export const OAUTH_FLOWS = ['password', 'client_credentials', 'jwt'] as const;

const secretKeys = (k: string) => [k, `${k}Env`, `${k}File`];
/** Every option readSalesforce reads: the sink's process skips them all, secrets included. */
export const SALESFORCE_KEYS: readonly string[] = [
  'oauthFlow', 'salesforceUrl', 'consumerKey', ...secretKeys('consumerSecret'), 'username',
  ...secretKeys('password'), ...secretKeys('securityToken'), ...secretKeys('privateKey'), 'jwtAudience',
  'userStatus', 'apiVersion', 'apiBudgetShare', 'loginHistoryLookbackDays', 'salesforceTuning',
  'apiReserve', 'apiMaxCalls', 'loginHistory', 'salesforceProxy', 'fields', ...secretKeys('hashSalt'), 'userFilter',
];

/** Tuning of the extractor, passed through (connectors/salesforce/config.ts checks ranges too). */
const TUNING: [keyof ExtractorOptions, number, number][] = [
  ['pageSize', 1, 1_000_000], ['parallelPages', 1, 10], ['jobTimeoutMs', 100, 86_400_000], ['pollInitialMs', 1, 600_000],
  ['pollMaxMs', 1, 600_000], ['requestTimeoutMs', 100, 3_600_000], ['retryAttempts', 1, 20], ['retryInitialMs', 1, 60_000],
  ['loginOverlapMs', 0, 86_400_000],
];

/** The Salesforce options (top level of the file): the product's ones, the OAuth flow, look-back and budget. */
export function readSalesforce(r: Reader): ExtractorOptions | undefined {
  const flow = r.string('oauthFlow', { default: 'password', oneOf: OAUTH_FLOWS }) as AuthOptions['flow'] | undefined;
  const url = r.string('salesforceUrl', { required: true, allowed: 'https://login.salesforce.com, https://test.salesforce.com or https://MyDomain.my.salesforce.com' });
  let loginUrl: string | undefined;
  if (url !== undefined && flow !== undefined) {
    try {
      loginUrl = parseLoginUrl(url, flow);
    } catch (err) {
      r.issues.add('salesforceUrl', (err as Error).message.replace(/^salesforce\.loginUrl: /, ''), { value: url });
    }
  }
  const consumerKey = r.string('consumerKey', { required: true, allowed: "the connected app's consumer key" });
  const consumerSecret = r.secret('consumerSecret', flow !== 'jwt', "the connected app's consumer secret");
  const username = r.string('username', { required: flow !== 'client_credentials', allowed: 'the Salesforce username of the integration user' });
  const password = r.secret('password', flow === 'password', "the user's password");
  const securityToken = r.secret('securityToken', false);
  const privateKeyPem = r.secret('privateKey', flow === 'jwt', 'the PEM private key whose certificate is on the connected app');
  if (privateKeyPem !== undefined && !privateKeyPem.includes('PRIVATE KEY')) r.issues.add('privateKey', 'is not a PEM private key', { value: privateKeyPem, secret: true, allowed: '-----BEGIN PRIVATE KEY----- …' });
  const audience = r.string('jwtAudience');
  if (flow && flow !== 'password') for (const k of ['password', 'securityToken'] as const) if (r.has(k) || r.has(`${k}Env`) || r.has(`${k}File`)) r.issues.add(k, `is only used by oauthFlow password (oauthFlow is ${flow})`, { allowed: 'remove it, or set oauthFlow: password' });
  if (flow && flow !== 'jwt' && (r.has('privateKey') || r.has('privateKeyFile') || r.has('privateKeyEnv'))) r.issues.add('privateKey', `is only used by oauthFlow jwt (oauthFlow is ${flow})`);

  const statuses = r.list('userStatus');
  if (statuses !== undefined) {
    if (statuses.length === 0) r.issues.add('userStatus', 'must name at least one status', { allowed: USER_STATUSES.join(', ') });
    for (const s of statuses) if (!(USER_STATUSES as readonly string[]).includes(s.toLowerCase())) r.issues.add('userStatus', `has an unknown status`, { value: s, allowed: USER_STATUSES.join(', ') });
  }
  const apiVersion = r.string('apiVersion', { default: '62.0', pattern: /^\d{2,3}\.0$/, allowed: "'NN.0', at least 47.0 (Bulk API 2.0 query)" });
  if (apiVersion !== undefined && Number(apiVersion) < 47) r.issues.add('apiVersion', 'is too old for Bulk API 2.0 query', { value: apiVersion, allowed: '47.0 or later' });
  const loginHistory = r.string('loginHistory', { default: 'auto', oneOf: LOGIN_HISTORY_MODES }) as LoginHistoryMode | undefined;
  const apiReserve = r.number('apiReserve', { default: 0.1, min: 0, max: 0.9 });
  const apiBudgetShare = r.number('apiBudgetShare', { min: 0.01, max: 1 });
  const apiMaxCalls = r.number('apiMaxCalls', { min: 1, max: 10_000_000, integer: true });
  const loginLookbackDays = r.number('loginHistoryLookbackDays', { default: 30, min: 1, max: 3650, integer: true });
  // A proxy for every Salesforce call; without it HTTPS_PROXY / NO_PROXY from the environment apply.
  const px = r.object('salesforceProxy');
  const proxyUrl = px.string('url', { required: r.has('salesforceProxy'), allowed: 'http://proxy.example.com:3128 (no credentials in it)' });
  if (proxyUrl && /^[a-z]+:\/\/[^/]*@/i.test(proxyUrl)) {
    r.issues.add('salesforceProxy.url', 'must not carry credentials', { value: proxyUrl, secret: true, allowed: 'set salesforceProxy.username and the password as a secret (passwordEnv or passwordFile)' });
  }
  const proxyUser = px.string('username');
  const proxyPassword = px.secret('password', false, "the proxy user's password");
  px.finish();
  const proxy = proxyUrl ? { url: proxyUrl, ...(proxyUser ? { username: proxyUser } : {}), ...(proxyPassword !== undefined ? { password: proxyPassword } : {}) } : undefined;
  // Field choice: custom fields in, PII out, some values hashed (schemas/mapping-choice.ts).
  let fields: FieldChoice | undefined;
  const rawFields = r.raw('fields');
  if (rawFields !== undefined) {
    try {
      fields = parseFieldChoice(rawFields, loadCatalog().userMapping);
    } catch (err) {
      const m = /^(fields(?:\.[A-Za-z0-9_]+)*): (.*)$/s.exec((err as Error).message);
      r.issues.add(m ? m[1] : 'fields', m ? m[2] : (err as Error).message, { value: rawFields });
    }
  }
  const hashSalt = r.secret('hashSalt', (fields?.hash.length ?? 0) > 0, 'a secret salt for fields.hash (at least 16 characters)');
  // Which users beyond their status (connectors/salesforce/user-filter.ts): checked against the describe at connect.
  const uf = r.object('userFilter');
  const userFilter = { userTypes: uf.list('userTypes'), excludeUserTypes: uf.list('excludeUserTypes'), profiles: uf.list('profiles'), where: uf.string('where') };
  uf.finish();
  const tuning = r.object('salesforceTuning');
  const extra: Partial<ExtractorOptions> = {};
  for (const [k, min, max] of TUNING) {
    const v = tuning.number(k, { min, max, integer: true });
    if (v !== undefined) (extra as Record<string, number>)[k] = v;
  }
  tuning.finish();

  if (!loginUrl || !flow || !consumerKey) return undefined;
  let auth: AuthOptions | undefined;
  if (flow === 'password' && consumerSecret && username && password) auth = { flow, consumerKey, consumerSecret, username, password, securityToken: securityToken ?? '' };
  else if (flow === 'client_credentials' && consumerSecret) auth = { flow, consumerKey, consumerSecret };
  else if (flow === 'jwt' && username && privateKeyPem) auth = { flow, consumerKey, username, privateKeyPem, ...(audience ? { audience } : {}) };
  if (!auth) return undefined;
  return { loginUrl, auth, apiVersion, userStatuses: statuses?.map((s) => s.toLowerCase()), loginHistory, proxy, userFilter: Object.fromEntries(Object.entries(userFilter).filter(([, v]) => v !== undefined)), ...(fields ? { fields } : {}), ...(hashSalt !== undefined ? { hashSalt } : {}), apiReserve, apiBudgetShare, apiMaxCalls, loginLookbackDays, ...extra };
}

/** Runs the extractor's own check last, so a rule only it knows still reports as a config issue. */
export function extractorIssue(check: () => void): string | null {
  try {
    check();
    return null;
  } catch (err) {
    return err instanceof ConnectorError ? err.message : String(err);
  }
}
