import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  loadConfigFile,
  parseConnectorConfig,
  toConnectorSettings,
  toSinkConfig,
} from '../../../pipeline/config';
import { DEFAULT_TOPICS } from '../../../schemas/topics';
import { goodConfig, SECRETS, sources } from './helpers';

function issuesOf(raw: unknown, src = sources()): ConfigError {
  try {
    parseConnectorConfig(raw, src, 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('a good config', () => {
  it('fills in the defaults and converts to the run settings and the sink config', () => {
    const c = parseConnectorConfig(goodConfig(), sources(), 'test.yaml');
    expect(c.connectorServerName).toBe('Cloud');
    expect(c.schedule).toEqual({ repeats: 'daily', startTime: { hour: 2, minute: 0 }, timeZone: 'UTC', active: true });
    expect(c.topics).toEqual(DEFAULT_TOPICS);
    expect(c.kafka.clientId).toBe('sf-neurons-acme-prod');
    const s = toConnectorSettings(c);
    expect(s.salesforce.auth).toEqual({
      flow: 'password',
      consumerKey: '3MVG9-key',
      consumerSecret: SECRETS[0],
      username: 'integration@acme.com',
      password: SECRETS[1],
      securityToken: SECRETS[2],
    });
    expect(s.salesforce.loginLookbackDays).toBe(30);
    expect(s.salesforce.apiReserve).toBe(0.1); // the org keeps 10 % of its daily requests
    expect(s.salesforce.apiBudgetShare).toBeUndefined();
    expect(s.salesforce.loginHistory).toBe('auto');
    expect(s.guard).toEqual({ maxShare: 0.25, alwaysAllowUpTo: 5, override: false });
    const sink = toSinkConfig(c);
    expect(sink.databaseUrl).toBeUndefined(); // embedded PostgreSQL
    expect(sink.topics).toEqual({
      users: DEFAULT_TOPICS.users,
      logins: DEFAULT_TOPICS.logins,
      deadLetter: DEFAULT_TOPICS.deadLetter,
    });
    expect(c.secrets.sort()).toEqual([...SECRETS].sort());
  });

  it('takes secrets from ${env:…}, <name>Env and <name>File', () => {
    const raw = goodConfig({
      consumerSecret: '${env:SF_SECRET}',
      password: undefined,
      passwordEnv: 'SF_PASSWORD',
      securityToken: undefined,
      securityTokenFile: '/run/secrets/token',
      database: { url: '${env:DB_URL}' },
      registry: { url: 'http://r:8081', username: 'u', passwordFile: '/run/secrets/reg' },
      kafka: {
        brokers: '${env:BROKERS}',
        sasl: { mechanism: 'SCRAM-SHA-512', username: 'k', passwordEnv: 'KAFKA_PW' },
      },
    });
    const c = parseConnectorConfig(
      raw,
      sources(
        {
          SF_SECRET: 'from-env-secret',
          SF_PASSWORD: 'from-env-password',
          DB_URL: 'postgres://a:dbpass@h:5432/d',
          BROKERS: 'k1:9092,k2:9092',
          KAFKA_PW: 'kafka-pass',
        },
        { '/run/secrets/token': 'file-token\n', '/run/secrets/reg': 'reg-pass' },
      ),
    );
    expect(c.salesforce.auth).toMatchObject({
      consumerSecret: 'from-env-secret',
      password: 'from-env-password',
      securityToken: 'file-token',
    });
    expect(c.sink.databaseUrl).toBe('postgres://a:dbpass@h:5432/d');
    expect(c.registry.auth).toEqual({ username: 'u', password: 'reg-pass' });
    expect(c.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(c.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'k', password: 'kafka-pass' });
    expect(c.secrets).toEqual(
      expect.arrayContaining([
        'from-env-secret',
        'from-env-password',
        'file-token',
        'postgres://a:dbpass@h:5432/d',
        'reg-pass',
        'kafka-pass',
      ]),
    );
  });

  it('reads the JWT flow with its key file, and client credentials without user', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
    const jwt = parseConnectorConfig(
      goodConfig({
        oauthFlow: 'jwt',
        consumerSecret: undefined,
        password: undefined,
        securityToken: undefined,
        privateKeyFile: '/k.pem',
      }),
      sources({}, { '/k.pem': pem }),
    );
    expect(jwt.salesforce.auth).toEqual({
      flow: 'jwt',
      consumerKey: '3MVG9-key',
      username: 'integration@acme.com',
      privateKeyPem: pem.trimEnd(),
    });
    const cc = parseConnectorConfig(
      goodConfig({
        oauthFlow: 'client_credentials',
        username: undefined,
        password: undefined,
        securityToken: undefined,
      }),
      sources(),
    );
    expect(cc.salesforce.auth).toEqual({
      flow: 'client_credentials',
      consumerKey: '3MVG9-key',
      consumerSecret: SECRETS[0],
    });
  });

  it('reads each kind of schedule', () => {
    const weekly = parseConnectorConfig(
      goodConfig({
        repeats: 'weekly',
        weekday: 'Sunday',
        startTime: '23:30',
        timeZone: 'America/New_York',
        active: false,
      }),
      sources(),
    );
    expect(weekly.schedule).toEqual({
      repeats: 'weekly',
      weekday: 'sunday',
      startTime: { hour: 23, minute: 30 },
      timeZone: 'America/New_York',
      active: false,
    });
    const monthly = parseConnectorConfig(goodConfig({ repeats: 'monthly', dayOfMonth: 31 }), sources());
    expect(monthly.schedule).toMatchObject({ repeats: 'monthly', dayOfMonth: 31 });
    const cron = parseConnectorConfig(goodConfig({ repeats: 'cron', cron: '30 1 * * 1-5' }), sources());
    expect(cron.schedule).toMatchObject({ repeats: 'cron', cron: { source: '30 1 * * 1-5' } });
  });

  it('loads the shipped example (YAML) once its environment is set', () => {
    const example = join(__dirname, '../../../config/example.yaml');
    const env = {
      SF_CONSUMER_SECRET: 'x-consumer',
      SF_PASSWORD: 'x-password',
      KAFKA_PASSWORD: 'x-kafka',
      REGISTRY_PASSWORD: 'x-reg',
      DATABASE_URL: 'postgres://u:p@db:5432/neurons',
    };
    const files = { '/run/secrets/sf_security_token': 'x-token\n' };
    const fs = jest.requireActual<typeof import('node:fs')>('node:fs');
    const c = loadConfigFile(example, {
      env,
      readFile: (p) => (p in files ? files[p as keyof typeof files] : fs.readFileSync(p, 'utf8')),
    });
    expect(c.connectorName).toBe('acme-prod');
    expect(c.schedule).toEqual({
      repeats: 'daily',
      startTime: { hour: 2, minute: 0 },
      timeZone: 'Europe/Berlin',
      active: true,
    });
    expect(c.metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(c.kafka.ssl).toBe(true);
  });
});

describe('a bad config', () => {
  it('reports several errors together, each naming the field, the value and what is allowed', () => {
    const err = issuesOf(
      goodConfig({
        connectorName: 'has spaces',
        userStatus: ['active', 'suspended'],
        repeats: 'fortnightly',
        startTime: '25:00',
        timeZone: 'Mars/Olympus',
        apiBudgetShare: 2,
        kafka: { brokers: ['no-port'] },
        registry: {},
      }),
    );
    const fields = err.issues.map((i) => i.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'connectorName',
        'userStatus',
        'repeats',
        'startTime',
        'timeZone',
        'apiBudgetShare',
        'kafka.brokers',
        'registry.url',
      ]),
    );
    expect(err.code).toBe('CONFIG_INVALID');
    const status = err.issues.find((i) => i.field === 'userStatus')!;
    expect(status).toEqual({
      field: 'userStatus',
      problem: 'has an unknown status',
      value: '"suspended"',
      allowed: 'active, inactive, frozen',
    });
    const repeats = err.issues.find((i) => i.field === 'repeats')!;
    expect(repeats.allowed).toBe('hourly, daily, weekly, monthly, cron');
    expect(err.message).toContain('test.yaml: 8 configuration errors');
    expect(err.message).toContain(
      'startTime: is not a time of day; got "25:00"; allowed: HH:MM on the 24-hour clock, e.g. 02:00',
    );
  });

  it('masks secrets in every message', () => {
    const err = issuesOf(
      goodConfig({
        password: 12345678901234, // not a string
        securityToken: 'S3CRET-token-0003',
        securityTokenEnv: 'ALSO', // two ways
        database: { url: 'mysql://root:S3CRET-db-0004@h/x' },
        privateKey: '-----BEGIN PRIVATE KEY-----S3CRET-key-0005',
      }),
    );
    expect(err.issues.map((i) => i.field)).toEqual(
      expect.arrayContaining(['password', 'securityToken', 'database.url', 'privateKey']),
    );
    for (const secret of [...SECRETS, '12345678901234', 'S3CRET-db-0004', 'S3CRET-key-0005'])
      expect(err.message).not.toContain(secret);
    expect(err.issues.find((i) => i.field === 'database.url')!.value).toBe('***');
  });

  it('masks the password of a URL given in a non-secret option', () => {
    const err = issuesOf(goodConfig({ registry: { url: 'ftp://user:S3CRET-url-0006@registry' } }));
    expect(err.message).toContain('ftp://user:***@registry');
    expect(err.message).not.toContain('S3CRET-url-0006');
  });

  it('names what a flow requires, and what it does not use', () => {
    const err = issuesOf(goodConfig({ password: undefined, consumerSecret: undefined }));
    expect(err.issues.map((i) => i.field).sort()).toEqual(['consumerSecret', 'password']);
    expect(err.issues[0].allowed).toMatch(/\$\{env:NAME\}.*Env.*File/);
    const cc = issuesOf(
      goodConfig({
        oauthFlow: 'client_credentials',
        username: undefined,
        salesforceUrl: 'https://login.salesforce.com',
      }),
    );
    expect(cc.issues.map((i) => i.field).sort()).toEqual(['password', 'salesforceUrl', 'securityToken']);
    expect(cc.issues.find((i) => i.field === 'salesforceUrl')!.problem).toMatch(/My Domain/);
    const flow = issuesOf(goodConfig({ oauthFlow: 'saml' }));
    expect(flow.issues[0]).toMatchObject({
      field: 'oauthFlow',
      value: '"saml"',
      allowed: 'password, client_credentials, jwt',
    });
  });

  it('reports missing environment variables and unreadable secret files', () => {
    const err = issuesOf(
      goodConfig({
        consumerSecret: '${env:NOPE}',
        password: undefined,
        passwordEnv: 'ALSO_NOPE',
        securityToken: undefined,
        securityTokenFile: '/missing',
      }),
    );
    expect(err.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          field: 'consumerSecret',
          problem: 'refers to environment variable NOPE, which is not set',
        }),
        expect.objectContaining({
          field: 'passwordEnv',
          problem: 'names environment variable ALSO_NOPE, which is not set',
        }),
        expect.objectContaining({
          field: 'securityTokenFile',
          problem: 'cannot be read (ENOENT)',
          value: '"/missing"',
        }),
      ]),
    );
  });

  it('rejects misspelt options, naming the known ones', () => {
    const err = issuesOf(goodConfig({ startTme: '02:00', kafka: { brokers: ['k:9092'], broker: 'x' } }));
    expect(err.issues.map((i) => i.field).sort()).toEqual(['kafka.broker', 'startTme']);
    expect(err.issues.find((i) => i.field === 'startTme')!.allowed).toContain('startTime');
  });

  it('checks the schedule options against repeats', () => {
    const err = issuesOf(goodConfig({ repeats: 'weekly', dayOfMonth: 0 }));
    expect(err.issues.map((i) => `${i.field}: ${i.problem}`).sort()).toEqual([
      'dayOfMonth: is only used when repeats is monthly (repeats is weekly)',
      'dayOfMonth: is out of range or not a number',
      'weekday: is required when repeats is weekly',
    ]);
    const cron = issuesOf(goodConfig({ repeats: 'cron', cron: '61 * * * *' }));
    expect(cron.issues[0]).toMatchObject({
      field: 'cron',
      problem: 'Invalid value for minute: 61',
      value: '"61 * * * *"',
    });
  });

  it('refuses a file that is not a mapping, and shows the syntax error position only', () => {
    expect(issuesOf(['a', 'list']).issues[0].field).toBe('(file)');
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'connectorName: x\npassword: "S3CRET-yaml-0007\n  : : [\n');
    let err: unknown;
    try {
      loadConfigFile(file, sources());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues[0].problem).toMatch(/^is not valid YAML \(syntax error at line \d+\)$/);
    expect((err as Error).message).not.toContain('S3CRET-yaml-0007');
    const missing = (() => {
      try {
        loadConfigFile(join(dir, 'none.yaml'));
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(missing?.issues[0].problem).toBe('cannot be read (ENOENT)');
  });
});

describe('salesforceProxy', () => {
  it('reads the proxy URL, its user and the password as a secret', () => {
    const c = parseConnectorConfig(
      {
        ...goodConfig(),
        salesforceProxy: { url: 'http://proxy.acme.internal:3128', username: 'svc', passwordEnv: 'PROXY_PW' },
      },
      sources({ PROXY_PW: 'Proxy-Pw-123' }),
      't.yaml',
    );
    expect(c.salesforce.proxy).toEqual({
      url: 'http://proxy.acme.internal:3128',
      username: 'svc',
      password: 'Proxy-Pw-123',
    });
    expect(c.secrets).toContain('Proxy-Pw-123');
  });

  it('refuses credentials in the URL, naming the field and the fix', () => {
    let err: unknown;
    try {
      parseConnectorConfig(
        { ...goodConfig(), salesforceProxy: { url: 'http://svc:pw@proxy:3128' } },
        sources(),
        't.yaml',
      );
    } catch (e) {
      err = e;
    }
    const issue = (err as ConfigError).issues.find((i) => i.field === 'salesforceProxy.url');
    expect(issue?.problem).toBe('must not carry credentials');
    expect(issue?.allowed).toMatch(/salesforceProxy\.username and the password as a secret/);
    expect(JSON.stringify((err as ConfigError).issues)).not.toContain('svc:pw');
  });
});

describe('userFilter', () => {
  it('reads user types, profiles and a WHERE condition; a bad condition names its position', () => {
    const c = parseConnectorConfig(
      {
        ...goodConfig(),
        userFilter: {
          excludeUserTypes: ['AutomatedProcess', 'Guest'],
          profiles: 'Standard User, Sales',
          where: "Department = 'Sales'",
        },
      },
      sources(),
      't.yaml',
    );
    expect(c.salesforce.userFilter).toEqual({
      excludeUserTypes: ['AutomatedProcess', 'Guest'],
      profiles: ['Standard User', 'Sales'],
      where: "Department = 'Sales'",
    });
    const bad = issuesOf({ ...goodConfig(), userFilter: { where: "Department = 'Sales' OR" } });
    expect(bad.issues.map((i) => i.problem).join('\n')).toMatch(
      /userFilter\.where: unexpected end of the condition at character 24/,
    );
  });
});
