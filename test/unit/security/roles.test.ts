import { ConfigError, parseConnectorConfig, toConnectorSettings, toSinkConfig } from '../../../pipeline/config';
import { goodConfig, SECRETS, sources } from '../config/helpers';
import { Issues } from '../../../pipeline/config/issues';
import { roleOptions } from '../../../pipeline/config/parse';
import { buildSalesforce } from '../../../pipeline/config/salesforce';

/**
 * Least privilege per role: the sink runs from a file without any Salesforce option, the
 * connector from one without the database, and a process never resolves the secrets of the
 * other role, even from a single shared file (their variables and files need not exist).
 */
const SINK_ONLY = {
  role: 'sink',
  connectorName: 'acme-prod',
  kafka: { brokers: ['127.0.0.1:9092'] },
  registry: { url: 'http://127.0.0.1:8081' },
  database: { urlEnv: 'DATABASE_URL' },
  sink: { groupId: 'acme-sink' },
};
const DB_URL = 'postgres://sink:S3CRET-db-0004@db.internal:5432/neurons';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('role: sink', () => {
  it('a sink-only file (no Salesforce option at all) loads for the sink', () => {
    const c = parseConnectorConfig(SINK_ONLY, sources({ DATABASE_URL: DB_URL }), 'sink.yaml', { role: 'sink' });
    expect(c.role).toBe('sink');
    expect(c.salesforce).toBeUndefined();
    expect(toSinkConfig(c).databaseUrl).toBe(DB_URL);
    expect(c.secrets).toEqual([DB_URL]);
  });

  it('the sink reading a shared file resolves no Salesforce secret: their variables need not be set', () => {
    const shared = goodConfig({
      consumerSecret: undefined,
      consumerSecretEnv: 'SF_SECRET',
      password: undefined,
      passwordFile: '/run/secrets/sf_password',
      securityToken: undefined,
      database: { urlEnv: 'DATABASE_URL' },
    });
    const c = parseConnectorConfig(shared, sources({ DATABASE_URL: DB_URL }), 'shared.yaml', { role: 'sink' });
    expect(c.salesforce).toBeUndefined();
    expect(c.secrets).toEqual([DB_URL]);
    for (const s of SECRETS) expect(JSON.stringify(c)).not.toContain(s);
  });

  it('a sink-only file is refused by the connector, naming the role and the fix', () => {
    const e = errorOf(() =>
      parseConnectorConfig(SINK_ONLY, sources({ DATABASE_URL: DB_URL }), 'sink.yaml', { role: 'connector' }),
    );
    expect(e.issues.map((i) => i.field)).toEqual(['role']);
    expect(e.message).toMatch(/role: .*sink.*connector/);
  });

  it('a file that says role: sink but carries Salesforce secrets is refused: the sink must not hold them', () => {
    const e = errorOf(() =>
      parseConnectorConfig(
        { ...SINK_ONLY, consumerSecret: SECRETS[0], passwordEnv: 'SF_PW' },
        sources({ DATABASE_URL: DB_URL }),
        'sink.yaml',
        { role: 'sink' },
      ),
    );
    expect(e.issues.map((i) => i.field).sort()).toEqual(['consumerSecret', 'passwordEnv']);
    expect(e.message).not.toContain(SECRETS[0]);
  });
});

describe('role: connector', () => {
  const CONNECTOR_ONLY = goodConfig({ role: 'connector' });

  it('a connector-only file (no database) loads for the connector', () => {
    const c = parseConnectorConfig(CONNECTOR_ONLY, sources(), 'conn.yaml', { role: 'connector' });
    expect(c.role).toBe('connector');
    expect(c.salesforce?.auth.flow).toBe('password');
    expect(c.sink.databaseUrl).toBeUndefined();
  });

  it('the connector reading a shared file never resolves the database URL', () => {
    const c = parseConnectorConfig(goodConfig({ database: { urlEnv: 'DATABASE_URL' } }), sources(), 'shared.yaml', {
      role: 'connector',
    });
    expect(c.sink.databaseUrl).toBeUndefined();
    expect(c.secrets.sort()).toEqual([...SECRETS].sort());
  });

  it('a file that says role: connector but names a database is refused', () => {
    const e = errorOf(() =>
      parseConnectorConfig(goodConfig({ role: 'connector', database: { url: DB_URL } }), sources(), 'conn.yaml', {
        role: 'connector',
      }),
    );
    expect(e.issues.map((i) => i.field)).toEqual(['database']);
    expect(e.message).not.toContain('S3CRET-db-0004');
  });

  it('is refused by the sink', () => {
    const e = errorOf(() => parseConnectorConfig(CONNECTOR_ONLY, sources(), 'conn.yaml', { role: 'sink' }));
    expect(e.issues.map((i) => i.field)).toEqual(['role']);
  });
});

describe('no role (one file for both, as before)', () => {
  it('still loads whole, for every command', () => {
    const c = parseConnectorConfig(goodConfig({ database: { url: DB_URL } }), sources(), 'both.yaml');
    expect(c.role).toBe('both');
    expect(c.salesforce?.auth.flow).toBe('password');
    expect(c.sink.databaseUrl).toBe(DB_URL);
  });

  it('an unknown role names the allowed ones', () => {
    const e = errorOf(() => parseConnectorConfig(goodConfig({ role: 'admin' }), sources(), 'x.yaml'));
    expect(e.issues[0]).toMatchObject({ field: 'role', allowed: 'connector, sink' });
  });
});

describe('the conversions refuse the other role', () => {
  it('a sink config cannot start the connector, a connector config cannot start the sink', () => {
    const sink = parseConnectorConfig(SINK_ONLY, sources({ DATABASE_URL: DB_URL }), 'sink.yaml', { role: 'sink' });
    expect(errorOf(() => toConnectorSettings(sink)).issues[0].field).toBe('role');
    const conn = parseConnectorConfig(goodConfig({ role: 'connector' }), sources(), 'conn.yaml', { role: 'connector' });
    // without this the sink would quietly start an embedded database
    expect(errorOf(() => toSinkConfig(conn)).issues[0].field).toBe('role');
  });
});

describe('the Salesforce options a sink file may carry unread', () => {
  it('every option the Salesforce build reads is a schema connector option (a new one cannot be forgotten)', () => {
    const read = new Set<string>();
    // valid values, so that the build reads everything down to the extractor's options
    const values: Record<string, unknown> = {
      oauthFlow: 'password',
      salesforceUrl: 'https://acme.my.salesforce.com',
      consumerKey: 'k',
      consumerSecret: 'cs',
      username: 'u',
      password: 'p',
      apiVersion: '62.0',
      loginHistory: 'auto',
      apiReserve: 0.1,
      loginHistoryLookbackDays: 30,
      userFilter: {},
      salesforceTuning: {},
    };
    const watched = new Proxy(values, {
      get: (target, key) => (typeof key === 'string' && read.add(key), target[key as string]),
    });
    expect(buildSalesforce(watched, watched, new Issues())?.auth.flow).toBe('password');
    const connectorOnly = roleOptions('connector');
    expect(read.size).toBeGreaterThan(10);
    expect([...read].filter((k) => !connectorOnly.includes(k.replace(/(Env|File)$/, '')))).toEqual([]);
  });

  it('each connector option of the schema is refused in a role: sink file, naming it (random pick, printed)', () => {
    const options = roleOptions('connector');
    const pick = options[Math.floor(Math.random() * options.length)];
    console.log(`connector option refused in a sink file: ${pick}`);
    for (const key of [pick, 'salesforceUrl', 'repeats']) {
      const file = { ...SINK_ONLY, [key]: 'x' };
      const e = errorOf(() =>
        parseConnectorConfig(file, sources({ DATABASE_URL: DB_URL }), 'sink.yaml', { role: 'sink' }),
      );
      expect(e.issues.map((i) => i.field)).toEqual([key]);
    }
  });
});
