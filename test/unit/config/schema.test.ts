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
