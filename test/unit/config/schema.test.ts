import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import { ConfigError, parseConnectorConfig } from '../../../pipeline/config';
import { configJsonSchema, renderReference } from '../../../pipeline/config/reference';
import { goodConfig, sources } from './helpers';

const ROOT = join(__dirname, '../../..');
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');
const SHIPPED_CONFIGS = ['config/example.yaml', 'config/compose.yaml', 'config/compose-sink.yaml'];

function issuesOf(raw: unknown): ConfigError {
  try {
    parseConnectorConfig(raw, sources(), 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('one declarative config schema', () => {
  it('reports three independent mistakes at once, each with field, value and fix', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----';
    const err = issuesOf(
      goodConfig({
        oauthFlow: 'jwt',
        consumerSecret: undefined,
        password: undefined,
        securityToken: undefined,
        privateKey: pem,
        jwtAudience: 'https://acme.my.salesforce.com', // Salesforce refuses a My Domain as JWT audience
        kafka: { brokers: ['no-port'] },
        topics: { users: 'same', state: 'same' },
      }),
    );
    expect(err.issues.map((i) => i.field).sort()).toEqual(['jwtAudience', 'kafka.brokers', 'topics']);
    for (const i of err.issues) expect(i.allowed ?? '').not.toBe('');
    expect(err.issues.find((i) => i.field === 'jwtAudience')).toMatchObject({
      value: '"https://acme.my.salesforce.com"',
    });
  });

  it('reports any set of independent mistakes all at once (random sets, replay with SF_TEST_SEED)', () => {
    const catalog: [Record<string, unknown>, string[]][] = [
      [{ connectorName: 'a b' }, ['connectorName']],
      [{ apiReserve: 'lots' }, ['apiReserve']],
      [{ userStatus: ['active', 'gone'] }, ['userStatus']],
      [{ kafka: { brokers: ['k1'], tls: 'maybe' } }, ['kafka.brokers', 'kafka.tls']],
      [{ registry: { url: 'r' } }, ['registry.url']],
      [{ topics: { users: 'x y' } }, ['topics.users']],
      [{ metrics: { port: 70000 } }, ['metrics.port']],
      [{ deletionGuard: { override: true } }, ['deletionGuard.override']],
      [{ sink: { usersTable: 'Users' } }, ['sink.usersTable']],
      [{ repeats: 'fortnightly' }, ['repeats']],
      [{ timeZone: 'Mars/Olympus' }, ['timeZone']],
      [{ startTime: '25:00' }, ['startTime']],
      [{ salesforceUrl: 'https://acme.lightning.force.com' }, ['salesforceUrl']],
      [{ password: undefined, passwordEnv: 'NOT_SET_ANYWHERE' }, ['passwordEnv']],
      [{ runRetries: { initialDelayMinutes: 30, maxDelayMinutes: 10 } }, ['runRetries.maxDelayMinutes']],
      [{ publisher: { compression: 'lz4' } }, ['publisher.compression']],
      [{ topicSettings: { partitions: 0 } }, ['topicSettings.partitions']],
    ];
    const seed = Number(process.env.SF_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`config mistakes seed ${seed} (replay: SF_TEST_SEED=${seed})`);
    let state = seed;
    const rnd = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 20; round++) {
      const chosen = catalog.filter(() => rnd() < 0.4);
      if (chosen.length < 3) chosen.push(...catalog.slice(0, 3 - chosen.length));
      const err = issuesOf(goodConfig(Object.assign({}, ...chosen.map(([over]) => over))));
      const expected = [...new Set(chosen.flatMap(([, fields]) => fields))].sort();
      expect(err.issues.map((i) => i.field).sort()).toEqual(expected);
      for (const i of err.issues) expect([i.field, (i.allowed ?? '').length > 0]).toEqual([i.field, true]);
      expect(err.message).toContain(`test.yaml: ${expected.length} configuration errors`);
    }
  });

  it('the generated reference (docs/configuration-reference.md) is current: npm run config:docs', () => {
    expect(read('docs/configuration-reference.md')).toBe(renderReference());
  });

  it('the JSON Schema for editors (config/connector.schema.json) is current: npm run config:docs', () => {
    expect(JSON.parse(read('config/connector.schema.json'))).toEqual(configJsonSchema());
    expect(read('config/example.yaml').split('\n')[0]).toBe('# yaml-language-server: $schema=./connector.schema.json');
  });

  it('every config file the repo ships is valid against the JSON Schema (each loads: validate, compose tests)', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(configJsonSchema());
    for (const file of SHIPPED_CONFIGS) {
      const ok = validate(parseYaml(read(file)));
      expect([file, ok ? [] : validate.errors]).toEqual([file, []]);
    }
  });

  it('the JSON Schema refuses what the loader refuses: misspelt option, out of range, unknown value, role', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(configJsonSchema());
    for (const bad of [
      { startTme: '02:00' },
      { apiReserve: 2 },
      { repeats: 'fortnightly' },
      { kafka: { brokers: ['k:1'], broker: 'x' } },
    ]) {
      expect([bad, validate(goodConfig(bad))]).toEqual([bad, false]);
      expect(() => parseConnectorConfig(goodConfig(bad), sources(), 'x.yaml')).toThrow(ConfigError);
    }
    // roles: a sink file holds no Salesforce option, a connector file no database
    const sink = { role: 'sink', connectorName: 'a', kafka: { brokers: ['k:1'] }, registry: { url: 'http://r' } };
    expect(validate(sink)).toBe(true);
    expect(validate({ ...sink, consumerKey: 'k' })).toBe(false);
    expect(validate(goodConfig({ role: 'connector', database: { urlEnv: 'DB' } }))).toBe(false);
  });
});

describe('the hand-written guide (docs/configuration.md)', () => {
  it('links the generated reference, and each default its tables show is the schema default', async () => {
    const { CONFIG_SHAPE } = await import('../../../pipeline/config/schema');
    const { defaultOf, shapeOf } = await import('../../../pipeline/config/options');
    const guide = read('docs/configuration.md');
    expect(guide).toContain('(configuration-reference.md)');
    const lookup = (path: string): unknown => {
      let shape: Record<string, unknown> | undefined = CONFIG_SHAPE;
      const parts = path.split('.');
      for (const [i, part] of parts.entries()) {
        const s = shape?.[part] as import('zod').ZodType | undefined;
        if (!s) return undefined;
        if (i === parts.length - 1) return defaultOf(s);
        shape = shapeOf(s);
      }
      return undefined;
    };
    let compared = 0;
    for (const line of guide.split('\n')) {
      const m = /^\| `([A-Za-z.]+)` \| `"?([^`"]+)"?` \|/.exec(line);
      if (!m) continue;
      const def = lookup(m[1]);
      if (def === undefined || typeof def === 'object') continue;
      expect([m[1], m[2]]).toEqual([m[1], String(def)]);
      compared++;
    }
    expect(compared).toBeGreaterThan(10);
  });
});
