import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { createTopicsReady } from '../../../kafka/topics';
import { freePort } from '../../../kernel/net';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { formatKafkaHome, kafkaAnswers, startKafkaProcess } from '../../../devstack/kafka';
import { isAlive, stopPid, waitUntil } from '../../../devstack/proc';
import type { Simulator } from '../../../simulator/api';
import { nodeEntry } from '../../support/node-entry';
import { services, uniqueName } from '../../support/services';
import { startOrg } from '../../support/sync-harness';
import { waitFor } from '../../support/wait';
import { ROOT } from '../cli/cli-process';
import { mulberry32 } from '../../../simulator/prng';

/**
 * Secrets stay secret everywhere. The CLI runs as an operator runs it (child processes, configs
 * with secrets from the environment and 0600 files) through failing runs (a Salesforce that
 * echoes the submitted credentials in its error, a wrong Kafka SASL password, SASL against a
 * broker without it) and a succeeding one (check, sync, sink, status) on a Kafka of the test's
 * own that only speaks SASL/PLAIN, so the Kafka password really travels. Then every output is searched for every
 * secret, raw and in its URL-encoded, form-encoded, JSON-escaped and basic-auth forms: stdout,
 * stderr, every record, key and header of every topic the run wrote (state and dead letters
 * included), every metrics page, the processes' command lines, the tables and every file the
 * processes wrote. Secrets are random with URL-special characters; REDACTION_SEED replays them.
 */
jest.setTimeout(300_000);

const SEED = Number(process.env.REDACTION_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`redaction test seed ${SEED} (replay: REDACTION_SEED=${SEED})`);

const rand = mulberry32(SEED);
const pick = (alphabet: string, n: number) =>
  Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
/** Characters that URLs, forms and JSON encode: a scrubber that only knows the raw form misses them. */
const SPECIAL = '@:/%+&=?# ';
const tricky = (prefix: string) =>
  `${prefix}${pick(ALNUM, 6)}${pick(SPECIAL, 2)}${pick(ALNUM, 4)}${pick(SPECIAL, 2)}${pick(ALNUM, 4)}`;

const S = {
  sfPassword: tricky('SfPw'),
  sfWrongPassword: tricky('SfWrong'),
  sfToken: `SfTok${pick(ALNUM, 20)}`,
  consumerSecret: `SfCs${pick(ALNUM, 28)}`,
  dbPassword: tricky('DbPw'),
  registryPassword: tricky('RgPw'),
  saslPassword: tricky('KsPw'),
  saslWrongPassword: tricky('KsWrong'),
};
const registryUser = `reg-${pick(ALNUM, 6)}`;
const USERS = 400;

const id = uniqueName('redact').replace('-', '_');
const dbRole = `${id}_role`;
const tables = { users: `${id}_users`, logins: `${id}_logins` };
const schema = `${id}_sink`;
let sim: Simulator;
let echo: Server;
let echoUrl: string;
/** Config and secret files: written by the test, so they hold secrets by design and are not scanned. */
let etc: string;
/** HOME, TMPDIR and working directory of every CLI process: everything in it was written by the CLI. */
let home: string;
let env: NodeJS.ProcessEnv;
const outputs: { where: string; text: string }[] = [];

/** Every form a secret could take on its way out. */
function variants(secret: string): string[] {
  return [
    ...new Set([
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ x: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1),
    ]),
  ];
}

function writeSecretFile(name: string, value: string): string {
  const file = join(etc, name);
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return file;
}

/** A broker of this test's own whose only listener is SASL/PLAIN: the Kafka password really travels. */
const saslUser = { username: 'sasl-user', password: S.saslPassword };
let saslBroker: string;
let saslPid: number | undefined;
let kafkaHome: string | undefined;

/** sasl: the SASL broker, right password; sasl-wrong: a wrong one; sasl-on-plain: SASL to the shared broker. */
type KafkaCase = 'sasl' | 'sasl-wrong' | 'sasl-on-plain';

function kafkaOption(k: KafkaCase): string {
  const broker = k === 'sasl-on-plain' ? services().KAFKA_BROKERS : saslBroker;
  const passwordEnv = k === 'sasl-wrong' ? 'RED_SASL_WRONG' : 'RED_SASL_PASSWORD';
  const sasl = `{ mechanism: plain, username: ${saslUser.username}, passwordEnv: ${passwordEnv} }`;
  return `kafka: { brokers: ["${broker}"], sasl: ${sasl} }`;
}

function writeConfig(
  name: string,
  over: { salesforceUrl?: string; password?: string; kafka?: KafkaCase } = {},
): string {
  const file = join(etc, `${name}.yaml`);
  const c = sim.credentials;
  writeFileSync(
    file,
    [
      `connectorName: ${id}-${name}`,
      `salesforceUrl: ${over.salesforceUrl ?? sim.url}`,
      `consumerKey: ${c.consumerKey}`,
      'consumerSecretEnv: RED_SF_SECRET',
      `username: ${c.username}`,
      `passwordEnv: ${over.password ? 'RED_SF_WRONG' : 'RED_SF_PASSWORD'}`,
      `securityTokenFile: ${writeSecretFile('sf_token', S.sfToken)}`,
      'userStatus: [active, inactive, frozen]',
      'salesforceTuning: { pollInitialMs: 20, pollMaxMs: 100, pageSize: 100, retryInitialMs: 5, retryAttempts: 2 }',
      kafkaOption(over.kafka ?? 'sasl'),
      `registry: { url: "${services().SCHEMA_REGISTRY_URL}", username: ${registryUser}, ` +
        `passwordFile: ${writeSecretFile('registry_pw', S.registryPassword)} }`,
      `topics: { users: ${id}.users, loginHistory: ${id}.logins, state: ${id}.state, deadLetter: ${id}.dlq }`,
      'database: { urlEnv: RED_DATABASE_URL }',
      `sink: { groupId: ${id}-sink, tableSchema: ${schema}, ` +
        `usersTable: ${tables.users}, loginHistoryTable: ${tables.logins} }`,
      'publisher: { lingerMs: 5 }',
      'metrics: { port: 0 }',
    ].join('\n'),
  );
  return file;
}

interface Cli {
  pid: number;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
}

/** The CLI as a child process whose HOME, TMPDIR and working directory are `home`. */
function cli(label: string, args: string[]): Cli {
  const child = spawn(process.execPath, [...nodeEntry('bin/connector.ts'), ...args], {
    cwd: home,
    env: { ...process.env, ...env, HOME: home, TMPDIR: home, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      outputs.push({ where: `${label} stdout`, text: out }, { where: `${label} stderr`, text: err });
      resolve(code);
    }),
  );
  return { pid: child.pid!, out: () => out, err: () => err, exited };
}

async function run(label: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = cli(label, args);
  const code = await p.exited;
  return { code, stdout: p.out(), stderr: p.err() };
}

const metricsUrl = (stderr: string) => /"url":"(http:\/\/[^"]+)"/.exec(stderr)?.[1] ?? null;

async function scrape(label: string, stderr: () => string): Promise<string> {
  let url: string | null = null;
  await waitFor(
    `${label}: the metrics endpoint to be announced`,
    60_000,
    async () => (url = metricsUrl(stderr())) !== null,
  );
  const page = await (await fetch(`${url}/metrics`)).text();
  const health = await (await fetch(`${url}/health`)).text();
  outputs.push({ where: `${label} /metrics`, text: page }, { where: `${label} /health`, text: health });
  return page;
}

/**
 * A Salesforce login endpoint that behaves like the simulator but, when it refuses a login,
 * echoes what it was sent in its error: raw in a sentence, URL-encoded inside a help URL. Real
 * orgs and proxies in front of them have done both; the connector must not pass it on.
 */
function startEcho(): Promise<void> {
  echo = createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', async () => {
      const answer = await fetch(sim.url + req.url, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'text/plain' },
        body: req.method === 'GET' ? undefined : body,
      });
      const text = await answer.text();
      if (req.url?.startsWith('/services/oauth2/token') && answer.status === 400) {
        const form = new URLSearchParams(body);
        const pw = form.get('password') ?? '';
        const secret = form.get('client_secret') ?? '';
        const query = `password=${encodeURIComponent(pw)}&client_secret=${encodeURIComponent(secret)}`;
        const link = `https://help.example.test/l?${query}`;
        const sentence = `see ${link}: authentication failure with password ${pw} and secret ${secret} (${body})`;
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...JSON.parse(text), error_description: sentence }));
        return;
      }
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(text);
    });
  });
  return new Promise((resolve) =>
    echo.listen(0, '127.0.0.1', () => {
      echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: services().DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  sim = await startOrg({
    users: USERS,
    logins: 800,
    defaultPageSize: 100,
    credentials: { password: S.sfPassword, securityToken: S.sfToken, consumerSecret: S.consumerSecret },
  });
  await startEcho();
  etc = mkdtempSync(join(tmpdir(), 'redact-etc-'));
  kafkaHome = mkdtempSync(join(tmpdir(), 'redact-kafka-'));
  const ports = { broker: await freePort(), controller: await freePort() };
  const proc = startKafkaProcess(kafkaHome, formatKafkaHome(kafkaHome, ports, saslUser), join(kafkaHome, 'kafka.log'));
  saslPid = proc.pid;
  saslBroker = `127.0.0.1:${ports.broker}`;
  await waitUntil(() => kafkaAnswers(saslBroker, saslUser), {
    timeoutMs: 90_000,
    what: `SASL Kafka (pid ${proc.pid})`,
    alive: () => isAlive(proc.pid),
    logFile: proc.logFile,
  });
  // A fresh broker creates its offsets topic on the first group join: done here, so the first
  // run under test meets a broker that is ready, as a production one is.
  const warm = new Kafka({
    brokers: [saslBroker],
    sasl: { mechanism: 'plain', ...saslUser },
    logLevel: logLevel.NOTHING,
  });
  const warmAdmin = warm.admin();
  await warmAdmin.connect();
  await createTopicsReady(warmAdmin, [{ topic: `${id}.warmup` }]);
  await warmAdmin.disconnect();
  const warmProducer = warm.producer();
  await warmProducer.connect();
  await warmProducer.send({ topic: `${id}.warmup`, messages: [{ value: 'ready' }] });
  await warmProducer.disconnect();
  await waitFor('the SASL broker to answer a read of a topic to its end', 90_000, async () => {
    await readToEnd(warm, `${id}.warmup`, () => undefined);
    return true;
  });
  home = mkdtempSync(join(tmpdir(), 'redact-home-'));
  mkdirSync(join(home, 'work'));
  // The sink logs in as its own role, whose password needs URL-encoding inside the database URL.
  const db = new URL(services().DATABASE_URL);
  await admin(async (c) => {
    await c.query(`CREATE ROLE "${dbRole}" LOGIN PASSWORD ${c.escapeLiteral(S.dbPassword)}`);
    await c.query(`GRANT CONNECT, CREATE ON DATABASE "${db.pathname.slice(1)}" TO "${dbRole}"`);
    // Its own schema: the sink's tables and its offsets table are the role's own (the shared
    // offsets table in public belongs to the tests' superuser).
    await c.query(`CREATE SCHEMA "${schema}" AUTHORIZATION "${dbRole}"`);
  });
  db.username = dbRole;
  db.password = encodeURIComponent(S.dbPassword);
  env = {
    RED_SF_SECRET: S.consumerSecret,
    RED_SF_PASSWORD: S.sfPassword,
    RED_SF_WRONG: S.sfWrongPassword,
    RED_SASL_PASSWORD: S.saslPassword,
    RED_SASL_WRONG: S.saslWrongPassword,
    RED_DATABASE_URL: db.toString(),
    LOG_LEVEL: 'debug',
  };
});

afterAll(async () => {
  await admin(async (c) => {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.query(`DROP OWNED BY "${dbRole}"`);
    await c.query(`DROP ROLE IF EXISTS "${dbRole}"`);
  }).catch(() => undefined);
  await new Promise((r) => echo?.close(r));
  await sim?.close();
  if (saslPid !== undefined) await stopPid(saslPid, 'SIGTERM', 30_000);
  for (const d of [kafkaHome, etc, home]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('secrets stay secret through failing and succeeding runs', () => {
  it('a Salesforce echoing the credentials in its error: check and sync fail, the run is recorded failed', async () => {
    const file = writeConfig('echo', { salesforceUrl: echoUrl, password: 'wrong' });
    const check = await run('check (echo)', ['check', '-c', file]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^✗ Salesforce login: /m);
    const sync = await run('sync (echo)', ['sync', '-c', file]);
    expect({ code: sync.code, stdout: sync.stdout ? 'json' : sync.stderr.slice(-2000) }).toEqual({
      code: 1,
      stdout: 'json',
    });
    const summary = JSON.parse(sync.stdout);
    expect(summary).toMatchObject({ status: 'failed', error: { code: 'SALESFORCE_AUTH_FAILED' } });
    // the echoed sentence itself got through (scrubbed): the test would prove nothing otherwise
    expect(summary.error.message).toContain('authentication failure with password');
    const status = await run('status (echo)', ['status', '-c', file, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).lastRun).toMatchObject({ status: 'failed' });
  });

  it('a Kafka SASL login with a wrong password, and against a broker without SASL: sync fails', async () => {
    const wrong = await run('sync (sasl wrong)', ['sync', '-c', writeConfig('saslwrong', { kafka: 'sasl-wrong' })]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/SASL|[Aa]uthentication/);
    const plain = await run('sync (sasl on plain)', [
      'sync',
      '-c',
      writeConfig('saslplain', { kafka: 'sasl-on-plain' }),
    ]);
    expect(plain.code).not.toBe(0);
  });

  it('a succeeding run: check, sync, sink until every user is in PostgreSQL, status', async () => {
    const file = writeConfig('main');
    const check = await run('check (main)', ['check', '-c', file]);
    expect(check.stdout).toContain('All checks passed.');
    const sync = cli('sync (main)', ['sync', '-c', file]);
    await scrape('sync (main)', sync.err).catch(() => undefined); // a fast run may end before a scrape
    expect(await sync.exited).toBe(0);
    expect(JSON.parse(sync.out())).toMatchObject({ status: 'succeeded', usersExtracted: USERS });

    // One record the sink cannot decode: it goes to the dead-letter topic, whose records and
    // headers the scan below reads too.
    const producer = new Kafka({
      brokers: [saslBroker],
      sasl: { mechanism: 'plain', ...saslUser },
      clientId: `${id}-bad`,
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    await producer.send({ topic: `${id}.users`, messages: [{ key: 'not-avro', value: 'not avro either' }] });
    await producer.disconnect();
    const sink = cli('sink (main)', ['sink', '-c', file]);
    try {
      await waitFor(`${USERS} users in ${tables.users}`, 120_000, async () => {
        const n = await admin(
          async (c) =>
            (await c.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}"."${tables.users}"`)).rows[0].n,
        );
        return Number(n) === sim.userIds(['active', 'inactive', 'frozen']).length;
      });
      await scrape('sink (main)', sink.err);
      outputs.push({ where: 'sink command line', text: readFileSync(`/proc/${sink.pid}/cmdline`, 'utf8') });
      outputs.push({ where: 'sink environment-free title', text: readFileSync(`/proc/${sink.pid}/comm`, 'utf8') });
    } finally {
      process.kill(sink.pid, 'SIGTERM');
    }
    expect(await sink.exited).toBe(0);
    const status = await run('status (main)', ['status', '-c', file, '--json']);
    expect(JSON.parse(status.stdout).lastRun).toMatchObject({ status: 'succeeded' });
  });

  it('no secret, in any encoding, in any output, topic record or header, metrics page, table or file', async () => {
    // Both brokers: the runs on the shared one failed before writing, but nothing is assumed.
    const clusters = [
      new Kafka({ brokers: [services().KAFKA_BROKERS], clientId: `${id}-scan`, logLevel: logLevel.NOTHING }),
      new Kafka({
        brokers: [saslBroker],
        sasl: { mechanism: 'plain', ...saslUser },
        clientId: `${id}-scan`,
        logLevel: logLevel.NOTHING,
      }),
    ];
    let records = 0;
    const perTopic: Record<string, number> = {};
    for (const [n, kafka] of clusters.entries()) {
      const kadmin = kafka.admin();
      await kadmin.connect();
      const topics = (await kadmin.listTopics()).filter((t) => t.startsWith(id));
      await kadmin.disconnect();
      for (const topic of topics) {
        const parts: string[] = [];
        await readToEnd(kafka, topic, (m) => {
          records++;
          perTopic[topic] = (perTopic[topic] ?? 0) + 1;
          parts.push(m.key?.toString('latin1') ?? '', m.value?.toString('latin1') ?? '');
          for (const [k, v] of Object.entries(m.headers ?? {}))
            parts.push(k, String(Buffer.isBuffer(v) ? v.toString('latin1') : v));
        });
        outputs.push({ where: `topic ${topic} (broker ${n})`, text: parts.join('\n') });
      }
    }
    expect(Object.keys(perTopic)).toEqual(
      expect.arrayContaining([`${id}.users`, `${id}.logins`, `${id}.state`, `${id}.dlq`]),
    );
    expect(records).toBeGreaterThan(USERS);
    // the failed runs and the good one are in the state topic; the undecodable record in the dead letters
    expect(perTopic[`${id}.state`]).toBeGreaterThanOrEqual(3);
    expect(perTopic[`${id}.dlq`]).toBeGreaterThanOrEqual(1);
    for (const table of Object.values(tables)) {
      const rows = await admin(
        async (c) =>
          (await c.query<{ r: string }>(`SELECT row_to_json(t)::text AS r FROM "${schema}"."${table}" t`)).rows,
      );
      outputs.push({ where: `table ${table}`, text: rows.map((r) => r.r).join('\n') });
    }
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
    for (const f of walk(home)) outputs.push({ where: `file ${f}`, text: readFileSync(f, 'latin1') });

    const forms = Object.entries(S).flatMap(([name, s]) => variants(s).map((v) => ({ name, v })));
    forms.push({
      name: 'registry basic auth',
      v: Buffer.from(`${registryUser}:${S.registryPassword}`).toString('base64'),
    });
    const found = outputs.flatMap((o) =>
      forms.filter((f) => o.text.includes(f.v)).map((f) => `${f.name} (${JSON.stringify(f.v)}) in ${o.where}`),
    );
    expect(
      outputs
        .filter((o) => o.where.endsWith('stderr'))
        .map((o) => o.text)
        .join('').length,
    ).toBeGreaterThan(1000);
    expect(found).toEqual([]);
  });
});
