import type { LoginHistoryMode } from '../../connectors/salesforce/access';
import {
  parseAudience,
  parseLoginUrl,
  parseProxy,
  type AuthOptions,
  type ExtractorOptions,
} from '../../connectors/salesforce/config';
import { parseWhere } from '../../connectors/salesforce/user-filter';
import { loadCatalog } from '../../schemas/catalog';
import { parseFieldChoice, type FieldChoice } from '../../schemas/mapping-choice';
import { CronSyntaxError, parseCron } from '../schedule/cron';
import { WEEKDAYS, parseStartTime, type Schedule, type Weekday } from '../schedule/spec';
import type { Issues } from './issues';
import { metaOf } from './options';
import type { Values } from './read';
import { CONFIG_SHAPE } from './schema';
import { parseDurationMs } from './schema-salesforce';

/** The rules between Salesforce options the schema cannot say alone, then the extractor's options. */
export function buildSalesforce(
  v: Values,
  file: Record<string, unknown>,
  issues: Issues,
): ExtractorOptions | undefined {
  const given = (k: string) => file[k] !== undefined && file[k] !== null;
  const flow = v.oauthFlow as AuthOptions['flow'] | undefined;
  const url = v.salesforceUrl as string | undefined;
  const reported = (k: string) =>
    issues.list.some((i) => i.field === k || i.field === `${k}Env` || i.field === `${k}File`);
  const need = (k: string, when: boolean) => {
    if (when && v[k] === undefined && !reported(k))
      issues.add(k, 'is required', { allowed: metaOf(CONFIG_SHAPE[k as keyof typeof CONFIG_SHAPE])?.allowed });
  };
  const fails = (k: string, value: unknown, check: () => void, allowed?: string) => {
    try {
      check();
    } catch (err) {
      issues.add(k, (err as Error).message.replace(/^salesforce\.[A-Za-z.]+: /, ''), { value, allowed });
    }
  };
  let loginUrl: string | undefined;
  if (url !== undefined && flow !== undefined)
    fails(
      'salesforceUrl',
      url,
      () => (loginUrl = parseLoginUrl(url, flow)),
      metaOf(CONFIG_SHAPE.salesforceUrl)?.allowed,
    );
  need('consumerSecret', flow !== undefined && flow !== 'jwt');
  need('username', flow !== undefined && flow !== 'client_credentials');
  need('password', flow === 'password');
  need('privateKey', flow === 'jwt');
  const pem = v.privateKey as string | undefined;
  if (pem !== undefined && !pem.includes('PRIVATE KEY'))
    issues.add('privateKey', 'is not a PEM private key', {
      value: pem,
      secret: true,
      allowed: '-----BEGIN PRIVATE KEY----- …',
    });
  const audience = v.jwtAudience as string | undefined;
  if (audience !== undefined)
    fails(
      'jwtAudience',
      audience,
      () => parseAudience(audience),
      'leave it out, or https://login.salesforce.com, https://test.salesforce.com or an Experience Cloud site URL',
    );
  const anyForm = (k: string) => given(k) || given(`${k}Env`) || given(`${k}File`);
  if (flow && flow !== 'password') {
    for (const k of ['password', 'securityToken'])
      if (anyForm(k))
        issues.add(k, `is only used by oauthFlow password (oauthFlow is ${flow})`, {
          allowed: 'remove it, or set oauthFlow: password',
        });
  }
  if (flow && flow !== 'jwt' && anyForm('privateKey'))
    issues.add('privateKey', `is only used by oauthFlow jwt (oauthFlow is ${flow})`, {
      allowed: 'remove it, or set oauthFlow: jwt',
    });

  const px = (v.salesforceProxy ?? {}) as Values;
  let proxy: ExtractorOptions['proxy'];
  if (given('salesforceProxy')) {
    const pu = px.url as string | undefined;
    if (pu === undefined && !reported('salesforceProxy.url'))
      issues.add('salesforceProxy.url', 'is required', {
        allowed: 'http://proxy.example.com:3128 (no credentials in it)',
      });
    else if (pu !== undefined && /^[a-z]+:\/\/[^/]*@/i.test(pu)) {
      issues.add('salesforceProxy.url', 'must not carry credentials', {
        value: pu,
        secret: true,
        allowed: 'set salesforceProxy.username and the password as a secret (passwordEnv or passwordFile)',
      });
    } else if (pu !== undefined) {
      proxy = {
        url: pu,
        ...(px.username ? { username: px.username as string } : {}),
        ...(px.password !== undefined ? { password: px.password as string } : {}),
      };
      fails('salesforceProxy.url', pu, () => parseProxy(proxy), 'http(s)://proxy.example.com:3128');
    }
  }
  let fields: FieldChoice | undefined;
  if (v.fields !== undefined) {
    try {
      fields = parseFieldChoice(v.fields, loadCatalog().userMapping);
    } catch (err) {
      const m = /^(fields(?:\.[A-Za-z0-9_]+)*): (.*)$/s.exec((err as Error).message);
      issues.add(m ? m[1] : 'fields', m ? m[2] : (err as Error).message, { value: v.fields });
    }
  }
  const salt = v.hashSalt as string | undefined;
  need('hashSalt', (fields?.hash.length ?? 0) > 0);
  if (salt !== undefined && (fields?.hash.length ?? 0) > 0 && salt.length < 16) {
    issues.add('hashSalt', 'is too short', {
      value: salt,
      secret: true,
      allowed: 'a secret of at least 16 characters, e.g. `openssl rand -hex 32`',
    });
  }
  const uf = Object.fromEntries(Object.entries((v.userFilter ?? {}) as Values).filter(([, x]) => x !== undefined));
  if (typeof uf.where === 'string')
    fails('userFilter.where', uf.where, () => parseWhere(uf.where as string), 'a SOQL condition on User fields');

  if (!loginUrl || !flow || !v.consumerKey) return undefined;
  const key = v.consumerKey as string;
  const secret = v.consumerSecret as string | undefined;
  const user = v.username as string | undefined;
  let auth: AuthOptions | undefined;
  if (flow === 'password' && secret && user && v.password) {
    auth = {
      flow,
      consumerKey: key,
      consumerSecret: secret,
      username: user,
      password: v.password as string,
      securityToken: (v.securityToken as string | undefined) ?? '',
    };
  } else if (flow === 'client_credentials' && secret) auth = { flow, consumerKey: key, consumerSecret: secret };
  else if (flow === 'jwt' && user && pem)
    auth = { flow, consumerKey: key, username: user, privateKeyPem: pem, ...(audience ? { audience } : {}) };
  if (!auth) return undefined;
  const tuning = Object.fromEntries(
    Object.entries((v.salesforceTuning ?? {}) as Values).filter(([, x]) => x !== undefined),
  );
  return {
    loginUrl,
    auth,
    apiVersion: v.apiVersion as string,
    userStatuses: v.userStatus as string[] | undefined,
    loginHistory: v.loginHistory as LoginHistoryMode,
    proxy,
    userFilter: uf,
    ...(fields ? { fields } : {}),
    ...(salt !== undefined ? { hashSalt: salt } : {}),
    apiReserve: v.apiReserve as number,
    apiBudgetShare: v.apiBudgetShare as number | undefined,
    apiMaxCalls: v.apiMaxCalls as number | undefined,
    loginLookbackDays: v.loginHistoryLookbackDays as number,
    usersFullScanEveryMs: parseDurationMs(v.usersFullScanEvery as string) ?? undefined,
    streamsFullScanEveryMs: parseDurationMs(v.streamsFullScanEvery as string) ?? undefined,
    ...tuning,
  };
}

/** Repeats, Start time, Active (the product's options) and the time zone, with their cross-rules. */
export function buildSchedule(v: Values, file: Record<string, unknown>, issues: Issues): Schedule | undefined {
  const given = (k: string) => file[k] !== undefined && file[k] !== null;
  const repeats = v.repeats as Schedule['repeats'] | undefined;
  const onlyFor = (key: string, kind: string) => {
    if (given(key) && repeats && repeats !== kind)
      issues.add(key, `is only used when repeats is ${kind} (repeats is ${repeats})`, { value: file[key] });
  };
  onlyFor('weekday', 'weekly');
  onlyFor('dayOfMonth', 'monthly');
  onlyFor('cron', 'cron');
  const startTime = typeof v.startTime === 'string' ? parseStartTime(v.startTime) : null;
  if (!repeats || !startTime || v.timeZone === undefined) return undefined;
  const base = { timeZone: v.timeZone as string, active: v.active as boolean };
  switch (repeats) {
    case 'hourly':
    case 'daily':
      return { repeats, startTime, ...base };
    case 'weekly':
      if (!v.weekday)
        return given('weekday')
          ? undefined
          : issues.add('weekday', 'is required when repeats is weekly', { allowed: WEEKDAYS.join(', ') });
      return { repeats, startTime, weekday: v.weekday as Weekday, ...base };
    case 'monthly':
      if (v.dayOfMonth === undefined)
        return given('dayOfMonth')
          ? undefined
          : issues.add('dayOfMonth', 'is required when repeats is monthly', {
              allowed: '1 to 31 (a day the month lacks means its last day)',
            });
      return { repeats, startTime, dayOfMonth: v.dayOfMonth as number, ...base };
    case 'cron': {
      const text = v.cron as string | undefined;
      if (!text)
        return given('cron')
          ? undefined
          : issues.add('cron', 'is required when repeats is cron', {
              allowed: 'a 5-field cron expression, e.g. "30 1 * * 1-5"',
            });
      try {
        return { repeats, cron: parseCron(text), ...base };
      } catch (err) {
        if (!(err instanceof CronSyntaxError)) throw err;
        return issues.add('cron', err.message, { value: text, allowed: 'minute hour day-of-month month day-of-week' });
      }
    }
  }
}
