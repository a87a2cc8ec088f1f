import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import type { Simulator } from '../../../simulator/api';
import { services, uniqueName } from '../../support/services';
import { startOrg } from '../../support/sync-harness';
import { waitFor } from '../../support/wait';
import { allOutput, runCli, startCli } from './cli-process';
import { GENERIC_STREAMS } from '../../../schemas/streams/generic';

/**
 * The CLI end to end, as an operator uses it: check, sync (metrics scraped while it runs), sink
 * until the rows are in PostgreSQL, status; then a failing login. Every output of every command,
 * and every metrics scrape, is finally searched for the secrets the config holds.
 */
jest.setTimeout(240_000);

const USERS = 3000;
let sim: Simulator;
let dir: string;
let pool: Pool;
const id = uniqueName('cli').replace('-', '_');
const tables = { users: `${id}_users`, logins: `${id}_logins` };
const scrapes: string[] = [];
/** The secrets handed to the CLI (via the environment and a file): none may appear in any output. */
let secrets: string[];
let env: NodeJS.ProcessEnv;
/** Records of the declared streams (licences) the sync published: the sink upserts them too. */
let streamRecords = 0;

function writeConfig(name: string, over: { password?: string } = {}): string {
  const c = sim.credentials;
  const file = join(dir, `${name}.yaml`);
  // secret files others can read are refused
  writeFileSync(join(dir, 'token'), `${c.securityToken}\n`, { mode: 0o600 });
  writeFileSync(
    file,
    [
      `connectorName: ${id}-${name}`,
      `salesforceUrl: ${sim.url}`,
      `consumerKey: ${c.consumerKey}`,
      'consumerSecret: ${env:CLI_SF_SECRET}',
      `username: ${c.username}`,
      over.password ? `password: "${over.password}"` : 'passwordEnv: CLI_SF_PASSWORD',
      `securityTokenFile: ${join(dir, 'token')}`,
      'userStatus: [active, inactive, frozen]',
      'repeats: daily',
      'startTime: "02:00"',
      'timeZone: Europe/Berlin',
      'salesforceTuning: { pollInitialMs: 20, pollMaxMs: 100, pageSize: 100, retryInitialMs: 5, retryAttempts: 2 }',
      `kafka: { brokers: ["${services().KAFKA_BROKERS}"] }`,
      `registry: { url: "${services().SCHEMA_REGISTRY_URL}" }`,
      `topics: { users: ${id}.users, loginHistory: ${id}.logins, state: ${id}.state, deadLetter: ${id}.dlq, ` +
        `streams: { ${GENERIC_STREAMS.map((d) => `${d.name}: ${id}.${d.name}`).join(', ')} } }`,
      'database: { urlEnv: CLI_DATABASE_URL }',
      `sink: { groupId: ${id}-sink, usersTable: ${tables.users}, loginHistoryTable: ${tables.logins} }`,
      'publisher: { lingerMs: 5 }',
      'metrics: { port: 0 }',
    ].join('\n'),
    { mode: 0o600 },
  ); // it may hold a literal password: a secret file, owner only
  return file;
}

/** The value of one series in a Prometheus text page (0 when absent). */
function sample(page: string, series: string): number {
  const line = page.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** The metrics URL a CLI process logged at start-up. */
function metricsUrl(stderr: string): string | null {
  return /"url":"(http:\/\/[^"]+)"/.exec(stderr)?.[1] ?? null;
}

beforeAll(async () => {
  sim = await startOrg({ users: USERS, logins: 4000, defaultPageSize: 100 });
  dir = mkdtempSync(join(tmpdir(), 'cli-e2e-'));
  pool = new Pool({ connectionString: services().DATABASE_URL, max: 2 });
  env = {
    CLI_SF_SECRET: sim.credentials.consumerSecret,
    CLI_SF_PASSWORD: sim.credentials.password,
    CLI_DATABASE_URL: services().DATABASE_URL,
    LOG_LEVEL: 'info',
  };
  secrets = [
    sim.credentials.consumerSecret,
    sim.credentials.password,
    sim.credentials.securityToken,
    sim.credentials.password + sim.credentials.securityToken,
    new URL(services().DATABASE_URL).password,
  ];
});

afterAll(async () => {
  await pool?.end();
  await sim?.close();
});

describe('connector CLI, end to end', () => {
  it('check: every connection passes, one ✓ line each (the password flow warns of its retirement)', async () => {
    const r = await runCli(['check', '-c', writeConfig('main')], env);
    expect(r.code).toBe(0);
    for (const name of [
      'Config',
      'Salesforce login',
      'Salesforce User',
      'Salesforce LoginHistory',
      'Salesforce UserLogin',
      'Kafka',
      'Schema registry',
      'Database',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^✓ ${name}: `, 'm'));
    }
    expect(r.stdout).toMatch(/^! Salesforce auth flow: .*2027-02-20/m);
    expect(r.stdout).not.toContain('✗');
    expect(r.stdout).toContain('All checks passed.');
  });

  it('sync: one run, its metrics moving while it runs', async () => {
    const p = startCli(['sync', '-c', writeConfig('main')], env);
    let url: string | null = null;
    await waitFor('the metrics endpoint to be announced', 60_000, async () => (url = metricsUrl(p.stderr())) !== null);
    const seen = new Set<number>();
    let done = false;
    void p.exited.then(() => (done = true));
    while (!done) {
      const page = await fetch(`${url}/metrics`).then(
        (res) => res.text(),
        () => null,
      );
      if (page) {
        scrapes.push(page);
        seen.add(sample(page, `sf_neurons_records_extracted_total{connector="${id}-main",object="User"}`));
      }
      await new Promise((r) => setTimeout(r, 25)); // scrape interval, not a readiness wait
    }
    expect(await p.exited).toBe(0);
    const summary = JSON.parse(p.stdout());
    expect(summary).toMatchObject({ status: 'succeeded', usersExtracted: USERS, usersPublished: USERS });
    // the declared streams' records (licences) the sink upserts beside the users
    streamRecords = Object.values(summary.streams as Record<string, { published: number }>).reduce(
      (n, c) => n + c.published,
      0,
    );
    // the counter was seen between zero and its final value: it moved during the run
    expect([...seen].some((v) => v > 0 && v < USERS)).toBe(true);
    const last = scrapes[scrapes.length - 1];
    expect(last).toMatch(/sf_neurons_records_published_total\{connector="[^"]+",kind="user"\} \d+/);
  });

  it('sink: writes the users to PostgreSQL, then stops cleanly on SIGTERM', async () => {
    const p = startCli(['sink', '-c', writeConfig('main')], env);
    try {
      await waitFor(`${USERS} users in ${tables.users}`, 120_000, async () => {
        const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${tables.users}"`);
        return Number(rows[0].n) === USERS;
      });
      const url = metricsUrl(p.stderr());
      expect(url).not.toBeNull();
      await waitFor('rows written in the sink metrics', 30_000, async () => {
        const page = await (await fetch(`${url}/metrics`)).text();
        scrapes.push(page);
        const upserts = sample(page, `sf_neurons_sink_rows_written_total{connector="${id}-main",operation="upsert"}`);
        return upserts === USERS + streamRecords;
      });
      // every committed batch is timed (the dashboard's batch-latency panel)
      expect(
        sample(scrapes[scrapes.length - 1], `sf_neurons_sink_batch_seconds_count{connector="${id}-main"}`),
      ).toBeGreaterThan(0);
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
    } catch (err) {
      console.log(
        p
          .stderr()
          .split('\n')
          .filter((l) => !l.includes('kafka: '))
          .join('\n'),
      );
      throw err;
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
  });

  it('status: the last run, from the state topic', async () => {
    const r = await runCli(['status', '-c', writeConfig('main'), '--json'], env);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({
      connector: `${id}-main`,
      schedule: 'daily at 02:00 Europe/Berlin',
      lastRun: { status: 'succeeded', usersExtracted: USERS },
      lastSucceededRun: { status: 'succeeded' },
      runInProgress: null,
    });
    expect(Date.parse(s.nextRun)).toBeGreaterThan(Date.now());
  });

  it('a failing login: check says ✗ and sync fails, exit codes non-zero', async () => {
    const wrong = `Wrong-Password-${uniqueName('pw')}`;
    secrets.push(wrong, wrong + sim.credentials.securityToken);
    const file = writeConfig('badlogin', { password: wrong });
    const check = await runCli(['check', '-c', file], env);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^✗ Salesforce login: .*rejected/m);
    const sync = await runCli(['sync', '-c', file], env);
    expect(sync.code).toBe(1);
    expect(JSON.parse(sync.stdout)).toMatchObject({ status: 'failed', error: { code: 'SALESFORCE_AUTH_FAILED' } });
  });

  it('an invalid config: exit 2, every error listed, secrets masked', async () => {
    const file = join(dir, 'invalid.yaml');
    writeFileSync(
      file,
      `connectorName: "bad name"\nsalesforceUrl: ftp://x\nconsumerKey: k\n` +
        `consumerSecret: "${sim.credentials.consumerSecret}"\npassword: 42\nkafka: { brokers: [nope] }\nregistry: {}\n`,
    );
    const r = await runCli(['sync', '-c', file], env);
    expect(r.code).toBe(2);
    for (const field of ['connectorName', 'salesforceUrl', 'username', 'password', 'kafka.brokers', 'registry.url'])
      expect(r.stderr).toContain(`- ${field}: `);
  });

  it('no secret appears in any output: stdout, stderr, check output or metrics', () => {
    const everything = [...allOutput, ...scrapes].join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    for (const s of secrets) expect(everything.includes(s) ? s : null).toBeNull();
  });

  it('every command has --help and an unknown one fails', async () => {
    for (const cmd of [
      ['sync'],
      ['start'],
      ['sink'],
      ['replay'],
      ['check'],
      ['mapping', 'export'],
      ['status'],
      ['simulator'],
    ]) {
      const r = await runCli([...cmd, '--help'], {});
      expect({ cmd, code: r.code }).toEqual({ cmd, code: 0 });
      expect(r.stdout).toMatch(/^usage: connector /);
    }
    expect((await runCli(['frobnicate'], {})).code).toBe(2);
  });
});
