/**
 * docker-compose.yml and the Dockerfile, checked without Docker:
 *  - the compose file, interpolated the way Compose does, is valid against the Compose
 *    Specification's JSON schema (test/fixtures/compose-spec.json);
 *  - its shape: pinned images, healthchecks, dependency conditions, named volumes, profiles,
 *    no secret written in it;
 *  - drift: every variable the connector and sink services set is one the mounted config file
 *    (or the CLI itself) reads, every variable the file reads is set, every file it names is
 *    mounted, and the file, read with exactly that environment, passes pipeline/config's
 *    validation, so every required option is provided.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse as parseYaml } from 'yaml';
import {
  ConfigError,
  parseConnectorConfig,
  toConnectorSettings,
  toSinkConfig,
  type ConnectorConfig,
} from '../../../pipeline/config';

const ROOT = join(__dirname, '..', '..', '..');
const COMPOSE_TEXT = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

type Env = Record<string, string | undefined>;
type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[] | string;
  environment?: Record<string, string>;
  volumes?: (string | { type: string; source?: string; target: string; read_only?: boolean })[];
  secrets?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  profiles?: string[];
  network_mode?: string;
};
type Compose = {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file: string }>;
  [extension: string]: unknown;
};

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, $VAR and $$. */
function interpolate(value: string, env: Env): string {
  return value.replace(
    /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_m, dollar: string, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
      if (dollar === '$') return '$';
      const key = (name ?? bare)!;
      const v = env[key];
      const missing = v === undefined || (colon === ':' && v === '');
      if (op === '-') return missing ? (arg ?? '') : v!;
      if (op === '?') {
        if (missing) throw new Error(`${key}: ${arg}`);
        return v!;
      }
      return v ?? '';
    },
  );
}

function interpolateDeep<T>(value: T, env: Env): T {
  if (typeof value === 'string') return interpolate(value, env) as T;
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, env)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, env)])) as T;
  return value;
}

/** The compose file as Compose sees it: YAML with anchors and merge keys, then interpolated. */
function loadCompose(env: Env = {}): Compose {
  return interpolateDeep(parseYaml(COMPOSE_TEXT, { merge: true }) as Compose, env);
}

// What an operator's .env supplies for the production connector (docs/operations.md).
const OPERATOR_ENV: Env = {
  SALESFORCE_URL: 'https://acme.my.salesforce.com',
  SALESFORCE_CONSUMER_KEY: '3MVG9example',
  SALESFORCE_USERNAME: 'integration@acme.com',
};

// Variables the CLI reads itself, beside those the config file names. Kept honest below by
// finding each one's `process.env.NAME` in the source file named.
const CLI_ENV: Record<string, string> = {
  CONNECTOR_CONFIG: 'bin/lib/command.ts',
  LOG_LEVEL: 'kernel/logger.ts',
};
// Read by the demo services' entrypoint (x-demo-entrypoint in the compose file), not the CLI.
const DEMO_ENTRYPOINT_ENV = ['SIMULATOR_INFO_FILE'];

const CONFIG_SERVICES = ['connector', 'sink', 'connector-demo', 'sink-demo'];
const DEMO_SERVICES = ['simulator', 'connector-demo', 'sink-demo'];

/** The environment variables a config file refers to: ${env:NAME} anywhere, and `<option>Env: NAME`. */
function envNamesInConfig(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)) names.add(m[1]);
  for (const m of text.matchAll(/^\s*[A-Za-z]+Env:\s*["']?([A-Za-z_][A-Za-z0-9_]*)/gm)) names.add(m[1]);
  return names;
}

/** Paths inside the container → where they come from (docker secret, named volume, bind). */
function mountsOf(
  compose: Compose,
  svc: Service,
): { binds: Map<string, string>; volumeDirs: Map<string, string>; secretFiles: Set<string> } {
  const binds = new Map<string, string>();
  const volumeDirs = new Map<string, string>();
  for (const v of svc.volumes ?? []) {
    if (typeof v === 'string') {
      const [source, target] = v.split(':');
      if (source.startsWith('.') || source.startsWith('/')) binds.set(target, source);
      else volumeDirs.set(target, source);
    } else if (v.type === 'bind') binds.set(v.target, v.source!);
    else if (v.type === 'volume') volumeDirs.set(v.target, v.source!);
  }
  const secretFiles = new Set((svc.secrets ?? []).filter((s) => compose.secrets?.[s]).map((s) => `/run/secrets/${s}`));
  return { binds, volumeDirs, secretFiles };
}

function demoEntrypointScript(compose: Compose): string {
  const ep = compose['x-demo-entrypoint'] as string[];
  return ep[2];
}

/**
 * Loads a service's config file as the container would: its environment, and only the files the
 * container has. Secret files hold a placeholder; the database URL one a PostgreSQL URL.
 */
/** A service's config as its command loads it: the sinks as the sink (role: sink), the others as the connector. */
function loadServiceConfig(compose: Compose, name: string): { config: ConnectorConfig; filesRead: string[] } {
  const svc = compose.services[name];
  const env = { ...svc.environment! };
  const { binds, volumeDirs, secretFiles } = mountsOf(compose, svc);
  const configSource = binds.get(env.CONNECTOR_CONFIG!);
  if (!configSource) throw new Error(`${name}: CONNECTOR_CONFIG ${env.CONNECTOR_CONFIG} is not a bind-mounted file`);
  const text = readFileSync(join(ROOT, configSource), 'utf8');
  const demo = DEMO_SERVICES.includes(name);
  const filesRead: string[] = [];
  const readFile = (path: string): string => {
    filesRead.push(path);
    const inVolume = [...volumeDirs.keys()].some((dir) => path.startsWith(dir + '/'));
    // The demo entrypoint writes the simulator's secrets under /tmp before it runs the CLI.
    const writtenByEntrypoint =
      demo &&
      ['SALESFORCE_CONSUMER_SECRET_FILE', 'SALESFORCE_PASSWORD_FILE', 'SALESFORCE_SECURITY_TOKEN_FILE'].some(
        (k) => env[k] === path,
      );
    if (!secretFiles.has(path) && !inVolume && !writtenByEntrypoint)
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    if (path === env.DATABASE_URL_FILE) return 'postgres://neurons:generated@postgres:5432/neurons\n';
    return `placeholder-secret-${posix.basename(path)}\n`;
  };
  if (demo)
    Object.assign(env, {
      SALESFORCE_CONSUMER_KEY: '3MVG9fromSimulator',
      SALESFORCE_USERNAME: 'integration@acme-sim.example.com',
    });
  const role = name.startsWith('sink') ? 'sink' : 'connector';
  // A sink's config has no Salesforce options: the checks below read them only for connectors.
  const config = parseConnectorConfig(parseYaml(text), { env, readFile }, configSource, { role }) as ConnectorConfig;
  return { config, filesRead };
}

/**
 * The vendored schema, for Ajv: it declares draft 2019-09 but names its sub-schemas with the
 * older `id` keyword (documentation only, never referenced), which Ajv refuses: those are dropped.
 */
function loadSchema(): Record<string, unknown> {
  const strip = (node: unknown, inProperties = false): unknown => {
    if (Array.isArray(node)) return node.map((n) => strip(n));
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (!inProperties && k === 'id' && typeof v === 'string') continue;
      out[k] = strip(v, !inProperties && (k === 'properties' || k === 'patternProperties' || k === 'definitions'));
    }
    return out;
  };
  const schema = strip(JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'compose-spec.json'), 'utf8'))) as Record<
    string,
    unknown
  >;
  delete schema.$schema;
  return schema;
}

describe('docker-compose.yml', () => {
  const compose = loadCompose(OPERATOR_ENV);

  it('is valid against the Compose Specification schema (after interpolation, as Compose validates it)', () => {
    const schema = loadSchema();
    const ajv = new Ajv2019({ strict: false, validateFormats: false, allErrors: true });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(ajv.errorsText(validate.errors, { separator: '\n' })).toBe('No errors');
    expect(ok).toBe(true);
  });

  it('the schema catches a broken file (the validation is not vacuous)', () => {
    const validate = new Ajv2019({ strict: false, validateFormats: false }).compile(loadSchema());
    const broken = loadCompose(OPERATOR_ENV);
    (broken.services.sink as Record<string, unknown>).depends_on = { kafka: { condition: 'service_ready' } };
    (broken.services.kafka as Record<string, unknown>).helthcheck = {};
    expect(validate(broken)).toBe(false);
  });

  it('has Kafka 3.9 (KRaft), Apicurio, PostgreSQL, connector and sink; demo services in the demo profile', () => {
    const s = compose.services;
    expect(s.kafka.image).toBe('apache/kafka:3.9.1');
    expect(s.kafka.environment).toMatchObject({ KAFKA_PROCESS_ROLES: 'broker,controller' });
    expect(s.registry.image).toBe('apicurio/apicurio-registry:3.3.3');
    expect(s.postgres.image).toMatch(/^postgres:1[78]$/);
    expect(s.connector.command).toEqual(['start']);
    expect(s.sink.command).toEqual(['sink']);
    expect(s['connector-demo'].command).toEqual(['sync', 'start']);
    expect(s['sink-demo'].command).toEqual(['sink']);
    expect(s.simulator.command!.join(' ')).toMatch(/connector\.js simulator --port 8443 /);
    for (const [name, svc] of Object.entries(s)) {
      expect([name, Boolean(svc.image || svc.build)]).toEqual([name, true]);
      expect([name, svc.profiles ?? []]).toEqual([name, DEMO_SERVICES.includes(name) ? ['demo'] : []]);
    }
    // The connector's image is built from this repository's Dockerfile.
    expect(s.connector.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
  });

  it('has healthchecks on Kafka, the registry, PostgreSQL, the connector and the sink', () => {
    const s = compose.services;
    expect(s.kafka.healthcheck!.test.join(' ')).toContain(
      'kafka-broker-api-versions.sh --bootstrap-server localhost:9092',
    );
    expect(s.registry.healthcheck!.test.join(' ')).toContain('/apis/ccompat/v7/subjects');
    expect(s.postgres.healthcheck!.test.join(' ')).toContain('pg_isready -U neurons -d neurons');
    // The connector's and sink's /health on the port config/compose.yaml gives metrics (METRICS_PORT).
    for (const name of ['connector', 'sink', 'connector-demo', 'sink-demo']) {
      expect(s[name].healthcheck!.test.join(' ')).toContain(
        "'http://127.0.0.1:' + process.env.METRICS_PORT + '/health'",
      );
      expect([name, s[name].environment!.METRICS_PORT]).toEqual([name, '9464']);
    }
    // One shell string each: podman's Docker API splits a CMD check's arguments on spaces.
    for (const [name, svc] of Object.entries(s))
      if (svc.healthcheck)
        expect([name, svc.healthcheck.test.length, svc.healthcheck.test[0]]).toEqual([name, 2, 'CMD-SHELL']);
    // The registry's check follows its configured port ($$ is Compose's escape for bash's $).
    expect(s.registry.healthcheck!.test.join(' ')).toContain('/dev/tcp/127.0.0.1/${QUARKUS_HTTP_PORT}');
  });

  it('orders start-up by health: nothing starts before what it needs answers', () => {
    const s = compose.services;
    const conditions = (name: string) =>
      Object.fromEntries(Object.entries(s[name].depends_on ?? {}).map(([k, v]) => [k, v.condition]));
    expect(conditions('registry')).toEqual({ kafka: 'service_healthy' });
    expect(conditions('postgres')).toEqual({ 'db-secrets': 'service_completed_successfully' });
    expect(conditions('connector')).toEqual({ kafka: 'service_healthy', registry: 'service_healthy' });
    expect(conditions('sink')).toEqual({
      kafka: 'service_healthy',
      registry: 'service_healthy',
      postgres: 'service_healthy',
    });
    expect(conditions('connector-demo')).toMatchObject({
      simulator: 'service_healthy',
      kafka: 'service_healthy',
      registry: 'service_healthy',
    });
    expect(conditions('sink-demo')).toMatchObject({ simulator: 'service_healthy', postgres: 'service_healthy' });
    // Every dependency is a service of the file, and the graph has no cycle.
    const visit = (name: string, path: string[]): void => {
      expect(path).not.toContain(name);
      expect(Object.keys(s)).toContain(name);
      for (const dep of Object.keys(s[name].depends_on ?? {})) visit(dep, [...path, name]);
    };
    for (const name of Object.keys(s)) visit(name, []);
    // network_mode service:X needs X started first.
    expect(s['connector-demo'].network_mode).toBe('service:simulator');
  });

  it('keeps its data in declared named volumes', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const used = new Set<string>();
    for (const svc of Object.values(compose.services))
      for (const v of mountsOf(compose, svc).volumeDirs.values()) used.add(v);
    expect([...used].sort()).toEqual([...declared].sort());
    expect(mountsOf(compose, compose.services.kafka).volumeDirs.get('/var/lib/kafka/data')).toBe('kafka-data');
    expect(compose.services.kafka.environment!.KAFKA_LOG_DIRS).toBe('/var/lib/kafka/data');
    expect(mountsOf(compose, compose.services.postgres).volumeDirs.get('/var/lib/postgresql/data')).toBe(
      'postgres-data',
    );
  });

  it('writes no secret: secrets come from files (docker secrets, the generated database password)', () => {
    const raw = parseYaml(COMPOSE_TEXT, { merge: true }) as Compose;
    for (const [name, svc] of Object.entries(raw.services)) {
      for (const [key, value] of Object.entries(svc.environment ?? {})) {
        if (/PASSWORD|SECRET|TOKEN|CREDENTIAL/i.test(key))
          expect([name, key, String(value)]).toEqual([
            name,
            key,
            expect.stringMatching(
              /^\/(run\/secrets|tmp\/salesforce|var\/lib\/sf-neurons\/(postgres-password|database-url))\//,
            ),
          ]);
        if (/_URL$/.test(key))
          expect([name, key, String(value)]).not.toEqual([name, key, expect.stringMatching(/\/\/[^/@]*:[^/@]*@/)]);
      }
    }
    for (const [name, def] of Object.entries(raw.secrets ?? {}))
      expect([name, def.file]).toEqual([name, `\${SALESFORCE_SECRETS_DIR:-./secrets}/${name}`]);
    expect(raw.services.connector.secrets).toEqual(['sf_consumer_secret', 'sf_password', 'sf_security_token']);
    expect(raw.services.sink.secrets).toBeUndefined(); // the sink's file is role: sink, with no Salesforce option
    expect(raw.services.postgres.environment!.POSTGRES_PASSWORD_FILE).toBe(
      '/var/lib/sf-neurons/postgres-password/postgres_password',
    );
  });

  it('gives the generated secrets only to who needs them, in files of mode 0600', () => {
    const mountedBy = (volume: string) =>
      Object.entries(compose.services)
        .filter(([, svc]) => [...mountsOf(compose, svc).volumeDirs.values()].includes(volume))
        .map(([name]) => name)
        .sort();
    expect(mountedBy('postgres-password')).toEqual(['db-secrets', 'postgres']);
    expect(mountedBy('database-url')).toEqual(['db-secrets', 'sink', 'sink-demo']);
    const script = (compose.services['db-secrets'].entrypoint as string[]).join('\n');
    expect(script.match(/mode: 0o\d+/g)).toEqual(['mode: 0o600', 'mode: 0o600']);
    expect(script).toContain('fs.chmodSync(f, 0o600)'); // files made by an older version
    expect(compose.services['db-secrets'].network_mode).toBe('none');
  });

  it('gives the connectors no database: their config names none and their containers hold no URL', () => {
    for (const name of ['connector', 'connector-demo']) {
      const { config, filesRead } = loadServiceConfig(compose, name);
      expect([name, config.sink.databaseUrl]).toEqual([name, undefined]);
      expect([name, filesRead.filter((f) => f.includes('database'))]).toEqual([name, []]);
      expect([name, compose.services[name].environment!.DATABASE_URL_FILE]).toEqual([name, undefined]);
    }
    for (const name of ['sink', 'sink-demo']) {
      expect([name, loadServiceConfig(compose, name).config.sink.databaseUrl]).toEqual([
        name,
        'postgres://neurons:generated@postgres:5432/neurons',
      ]);
    }
  });

  it('runs the connector image read-only as its own user; the demo image only where the simulator runs', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      if (!svc.build) continue;
      expect([name, (svc as Record<string, unknown>).read_only, (svc as Record<string, unknown>).tmpfs]).toEqual([
        name,
        true,
        ['/tmp'],
      ]);
      const target = (svc.build as { target: string }).target;
      expect([name, target]).toEqual([name, name === 'simulator' ? 'demo' : 'runtime']);
    }
  });

  it('publishes ports on 127.0.0.1 only', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const p of ((svc as Record<string, unknown>).ports as string[] | undefined) ?? [])
        expect([name, p]).toEqual([name, expect.stringMatching(/^127\.0\.0\.1:\d+:\d+$/)]);
    }
  });
});

describe('drift between docker-compose.yml and pipeline/config', () => {
  const compose = loadCompose(OPERATOR_ENV);

  it('the variables the CLI reads itself are still read where this test says', () => {
    for (const [name, file] of Object.entries(CLI_ENV))
      expect([name, readFileSync(join(ROOT, file), 'utf8').includes(`process.env.${name}`)]).toEqual([name, true]);
  });

  it.each(CONFIG_SERVICES)('%s: mounts an existing config file at CONNECTOR_CONFIG', (name) => {
    const svc = compose.services[name];
    const source = mountsOf(compose, svc).binds.get(svc.environment!.CONNECTOR_CONFIG);
    expect(source).toBe(name.startsWith('sink') ? './config/compose-sink.yaml' : './config/compose.yaml');
    expect(existsSync(join(ROOT, source!))).toBe(true);
  });

  it.each(CONFIG_SERVICES)(
    '%s: sets only variables that the config file or the CLI reads, and every one the file reads',
    (name) => {
      const svc = compose.services[name];
      const text = readFileSync(
        join(ROOT, mountsOf(compose, svc).binds.get(svc.environment!.CONNECTOR_CONFIG)!),
        'utf8',
      );
      const read = envNamesInConfig(text);
      const set = Object.keys(svc.environment!);
      const allowed = new Set([
        ...read,
        ...Object.keys(CLI_ENV),
        ...(DEMO_SERVICES.includes(name) ? DEMO_ENTRYPOINT_ENV : []),
      ]);
      expect(set.filter((k) => !allowed.has(k))).toEqual([]);
      expect([...read].filter((k) => !set.includes(k))).toEqual([]);
    },
  );

  it.each(CONFIG_SERVICES)(
    '%s: the config file passes pipeline/config with exactly the environment and files the container has',
    (name) => {
      const { config, filesRead } = loadServiceConfig(compose, name);
      const env = compose.services[name].environment!;
      expect(config.kafka.brokers).toEqual(['kafka:9092']);
      expect(config.registry.url).toBe('http://registry:8080/apis/ccompat/v7');
      // Only the sinks are given the database (the connectors' case has a test of its own).
      if (name.startsWith('sink'))
        expect(config.sink.databaseUrl).toBe('postgres://neurons:generated@postgres:5432/neurons');
      expect(config.metrics).toEqual({ host: '0.0.0.0', port: 9464 });
      expect(config.connectorName).toBe(env.CONNECTOR_NAME);
      if (name.startsWith('sink')) {
        // role: sink: no Salesforce option, no Salesforce secret read
        expect(config.role).toBe('sink');
        expect(config.salesforce).toBeUndefined();
        expect(filesRead).toEqual([env.DATABASE_URL_FILE]);
        expect(toSinkConfig(config).databaseUrl).toBe(config.sink.databaseUrl);
        return;
      }
      expect(config.salesforce.loginUrl).toBe(env.SALESFORCE_URL);
      expect(config.salesforce.auth.flow).toBe('password');
      expect(config.guard).toMatchObject({ maxShare: 0.25, alwaysAllowUpTo: 5, override: false });
      expect(config.salesforce.apiBudgetShare).toBeUndefined(); // the default: stop only at the org's reserve
      expect(config.salesforce.apiReserve).toBe(0.1);
      expect(config.salesforce.userStatuses).toEqual(['active', 'inactive', 'frozen']);
      expect(filesRead.sort()).toEqual(
        [env.SALESFORCE_CONSUMER_SECRET_FILE, env.SALESFORCE_PASSWORD_FILE, env.SALESFORCE_SECURITY_TOKEN_FILE].sort(),
      );
      expect(toConnectorSettings(config).topics.users).toBe('salesforce.neurons.users');
    },
  );

  it('the production connector runs daily at 02:00 UTC unless the operator says otherwise; the demo hourly', () => {
    expect(loadServiceConfig(compose, 'connector').config.schedule).toEqual({
      repeats: 'daily',
      startTime: { hour: 2, minute: 0 },
      timeZone: 'UTC',
      active: true,
    });
    expect(loadServiceConfig(compose, 'connector-demo').config.schedule).toMatchObject({
      repeats: 'hourly',
      timeZone: 'UTC',
      active: true,
    });
  });

  it('operator settings from .env reach the config (schedule, guard, statuses)', () => {
    const custom = loadCompose({
      ...OPERATOR_ENV,
      SCHEDULE_REPEATS: 'weekly',
      SCHEDULE_START_TIME: '03:30',
      SCHEDULE_TIME_ZONE: 'Europe/Berlin',
      CONNECTOR_ACTIVE: 'false',
      DELETION_GUARD_MAX_SHARE: '0.1',
      SALESFORCE_USER_STATUS: 'active',
    });
    // weekly needs a weekday, which the compose config does not offer: the error says so.
    expect(() => loadServiceConfig(custom, 'connector')).toThrow(/weekday/);
    const daily = loadCompose({
      ...OPERATOR_ENV,
      SCHEDULE_START_TIME: '03:30',
      SCHEDULE_TIME_ZONE: 'Europe/Berlin',
      CONNECTOR_ACTIVE: 'false',
      DELETION_GUARD_MAX_SHARE: '0.1',
      SALESFORCE_USER_STATUS: 'active',
    });
    const { config } = loadServiceConfig(daily, 'connector');
    expect(config.schedule).toEqual({
      repeats: 'daily',
      startTime: { hour: 3, minute: 30 },
      timeZone: 'Europe/Berlin',
      active: false,
    });
    expect(config.guard.maxShare).toBe(0.1);
    expect(config.salesforce.userStatuses).toEqual(['active']);
  });

  it('without the operator settings the production config names exactly what is missing (and no secret)', () => {
    const bare = loadCompose({});
    let error: unknown;
    try {
      loadServiceConfig(bare, 'connector');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.field).sort()).toEqual([
      'consumerKey',
      'salesforceUrl',
      'username',
    ]);
    expect((error as Error).message).not.toContain('placeholder-secret');
  });

  it('the demo entrypoint provides the credentials the demo config reads', () => {
    const script = demoEntrypointScript(compose);
    for (const name of [
      'SIMULATOR_INFO_FILE',
      'SALESFORCE_CONSUMER_KEY',
      'SALESFORCE_USERNAME',
      'SALESFORCE_CONSUMER_SECRET_FILE',
      'SALESFORCE_PASSWORD_FILE',
      'SALESFORCE_SECURITY_TOKEN_FILE',
    ])
      expect([name, script.includes(name)]).toEqual([name, true]);
    // The simulator writes the JSON line where the demo services read it.
    const info = compose.services['connector-demo'].environment!.SIMULATOR_INFO_FILE;
    expect(compose.services.simulator.command!.join(' ')).toContain(`> ${info}`);
    expect(compose.services.simulator.healthcheck!.test.join(' ')).toContain(`test -s ${info}`);
    expect(script).not.toContain('$'); // Compose would interpolate it
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as {
    compilerOptions: { outDir: string; rootDir: string };
    include: string[];
  };

  it('builds on Node 22 LTS (any base image) in stages and runs as a non-root user of its own', () => {
    expect(text).toMatch(/^ARG NODE_IMAGE=node:22-bookworm-slim$/m);
    expect(text.match(/^FROM \S+ AS (\S+)/gm)).toEqual([
      'FROM ${NODE_IMAGE} AS deps',
      'FROM deps AS build',
      'FROM ${NODE_IMAGE} AS prod-deps',
      'FROM ${NODE_IMAGE} AS app',
      'FROM app AS demo',
      'FROM app AS runtime',
    ]);
    expect(text).toMatch(/npm ci --no-audit --no-fund$/m);
    expect(text).toMatch(/^RUN npx tsc -p containers\/tsconfig\.image\.json$/m);
    expect(text).toMatch(/npm ci --omit=dev /m);
    const app = text.slice(text.indexOf('AS app'), text.indexOf('AS demo'));
    expect(app).toMatch(/^USER 10001:10001$/m);
    expect(text.slice(text.indexOf('AS app'))).not.toMatch(/^USER root/m);
    // The default target (the last stage) is runtime.
    expect(text.trim().split('\n').pop()).toBe('FROM app AS runtime');
  });

  it('runs the compiled CLI that `npm run build` produces, with the schema files it reads at run time', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // npm run build: tsc -p tsconfig.json into an emptied dist/, stamped (scripts/build.mjs)
    expect(pkg.scripts.build).toBe('node scripts/build.mjs');
    // npm pack compiles only when dist/ is not a build of the current sources (devstack/build-stamp.ts)
    expect(pkg.scripts.prepack).toBe('node scripts/build.mjs --if-stale');
    // ...and npm publish from nothing (runs before prepack): a release never trusts file times
    expect(pkg.scripts.prepublishOnly).toBe('npm run build');
    const build = readFileSync(join(ROOT, 'scripts', 'build.mjs'), 'utf8');
    expect(build).toContain('.isDistCurrent(root)');
    expect(build).toContain("resolve('typescript/bin/tsc')");
    expect(build).toContain("[tsc, '-p', path.join(root, 'tsconfig.json')]");
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    const imageTsconfig = JSON.parse(readFileSync(join(ROOT, 'containers', 'tsconfig.image.json'), 'utf8')) as {
      include: string[];
    };
    expect(imageTsconfig.include).toEqual(['../bin/connector.ts', '../simulator/cli.ts']);
    expect(text).toContain('ENTRYPOINT ["node", "/app/dist/bin/connector.js"]');
    expect(existsSync(join(ROOT, 'bin', 'connector.ts'))).toBe(true);
    // The simulator command runs simulator/cli next to the compiled bin/.
    expect(readFileSync(join(ROOT, 'bin', 'commands', 'misc.ts'), 'utf8')).toContain(
      "join(__dirname, '..', '..', 'simulator', 'cli')",
    );
    // Only the demo target has the simulator; the runtime image ships no test code.
    expect(text).toMatch(/^COPY simulator \.\/simulator$/m);
    expect(text.slice(text.indexOf('AS demo'), text.indexOf('AS runtime'))).toContain(
      '/app/dist/simulator ./dist/simulator',
    );
    expect(text.slice(text.indexOf('AS app'), text.indexOf('AS demo'))).not.toMatch(
      /dist\/test|COPY --from=build \S+ \/app\/dist /,
    );
    // schemas/files.ts falls back from dist/schemas to ../../schemas = /app/schemas.
    expect(readFileSync(join(ROOT, 'schemas', 'files.ts'), 'utf8')).toContain(
      "path.join(__dirname, '..', '..', 'schemas', relative)",
    );
    expect(text).toMatch(/^COPY --chown=root:root schemas\/avro \.\/schemas\/avro$/m);
    expect(text).toMatch(/^COPY --chown=root:root schemas\/mapping \.\/schemas\/mapping$/m);
  });

  it('keeps the build context free of local state and secrets (.dockerignore)', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    // The tests are not even in the build context: the image cannot ship them.
    for (const entry of ['.git', 'node_modules', 'dist', 'secrets', '.env', 'test', 'devstack'])
      expect(ignored).toContain(entry);
    for (const copied of [
      'kernel',
      'kafka',
      'bin',
      'pipeline',
      'schemas',
      'connectors',
      'sinks',
      'simulator',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
    ])
      expect(ignored).not.toContain(copied);
  });
});
