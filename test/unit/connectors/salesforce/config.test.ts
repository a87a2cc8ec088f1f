import {
  parseExtractorConfig,
  parseUserStatuses,
  type ExtractorOptions,
} from '../../../../connectors/salesforce/config';
import { FatalError } from '../../../../kernel/errors';

const base: ExtractorOptions = {
  loginUrl: 'https://login.salesforce.com',
  auth: {
    flow: 'password',
    consumerKey: 'ck',
    consumerSecret: 'cs-secret',
    username: 'u@example.com',
    password: 'pw-secret',
    securityToken: 'tok-secret',
  },
};

function configError(opts: ExtractorOptions): FatalError {
  try {
    parseExtractorConfig(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(FatalError);
    expect((err as FatalError).code).toBe('CONFIG_INVALID');
    return err as FatalError;
  }
  throw new Error('expected a configuration error');
}

describe('extractor configuration', () => {
  it('fills in documented defaults', () => {
    const c = parseExtractorConfig(base);
    expect(c).toMatchObject({
      apiVersion: '62.0',
      userStatuses: ['active', 'inactive', 'frozen'],
      loginLookbackDays: 30,
      loginOverlapMs: 3_600_000,
      parallelPages: 3,
      apiReserve: 0.1,
      apiBudgetShare: undefined,
      apiMaxCalls: undefined,
      loginHistory: 'auto',
      pageSize: undefined,
    });
  });

  it('rejects an unknown status type, naming the allowed values', () => {
    const err = configError({ ...base, userStatuses: ['active', 'Suspended'] });
    expect(err.message).toContain('userStatuses');
    expect(err.message).toContain('"Suspended"');
    expect(err.message).toContain('active, inactive, frozen');
  });

  it('rejects a status that tries to smuggle SOQL', () => {
    expect(() => parseUserStatuses(["active' OR Name != '"])).toThrow(/allowed values: active, inactive, frozen/);
  });

  it('normalises case, removes duplicates and keeps a canonical order', () => {
    expect(parseUserStatuses(['Frozen', 'active', 'ACTIVE'])).toEqual(['active', 'frozen']);
  });

  it('rejects an empty status list', () => {
    expect(configError({ ...base, userStatuses: [] }).message).toContain('non-empty');
  });

  it.each([
    ['https://login.salesforce.com', 'https://login.salesforce.com'],
    ['https://test.salesforce.com/', 'https://test.salesforce.com'],
    ['https://acme.my.salesforce.com', 'https://acme.my.salesforce.com'],
    ['https://acme--uat.sandbox.my.salesforce.com', 'https://acme--uat.sandbox.my.salesforce.com'],
    ['http://127.0.0.1:5555', 'http://127.0.0.1:5555'],
  ])('accepts production, sandbox and My Domain login URLs: %s', (url, expected) => {
    expect(parseExtractorConfig({ ...base, loginUrl: url }).loginUrl).toBe(expected);
  });

  it.each([
    ['http://login.salesforce.com', 'https'],
    ['https://acme.lightning.force.com', 'Lightning'],
    ['https://acme.my.salesforce.com/services', 'bare origin'],
    ['not a url', 'not a URL'],
  ])('rejects the login URL %s', (url, why) => {
    expect(configError({ ...base, loginUrl: url }).message).toContain(why);
  });

  it('requires a My Domain URL for the client credentials flow', () => {
    const err = configError({
      loginUrl: 'https://login.salesforce.com',
      auth: { flow: 'client_credentials', consumerKey: 'ck', consumerSecret: 'cs' },
    });
    expect(err.message).toContain('My Domain');
  });

  it('names a missing credential without echoing any secret', () => {
    const err = configError({ ...base, auth: { ...base.auth, username: '' } as ExtractorOptions['auth'] });
    expect(err.message).toContain('auth.username');
    expect(err.message).not.toMatch(/secret/);
  });

  it('rejects an unknown flow and an old API version', () => {
    expect(configError({ ...base, auth: { flow: 'saml' } as unknown as ExtractorOptions['auth'] }).message).toContain(
      'password, client_credentials, jwt',
    );
    expect(configError({ ...base, apiVersion: '45.0' }).message).toContain('47.0');
  });

  it('checks numeric ranges', () => {
    expect(configError({ ...base, apiBudgetShare: 1.5 }).message).toContain('apiBudgetShare');
    expect(configError({ ...base, parallelPages: 0 }).message).toContain('parallelPages');
  });

  it('reports every mistake at once, each naming its option, never a secret (issue 17)', () => {
    const err = configError({
      ...base,
      auth: { ...base.auth, username: '' } as ExtractorOptions['auth'],
      apiVersion: '45.0',
      parallelPages: 0,
      userStatuses: ['active', 'Suspended'],
    });
    for (const option of ['auth.username', 'apiVersion', 'parallelPages', 'userStatuses'])
      expect(err.message).toContain(`salesforce.${option}:`);
    expect(err.message).not.toMatch(/pw-secret|tok-secret|cs-secret/);
  });
});
