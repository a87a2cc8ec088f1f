import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import type { Simulator } from '../../../simulator/api';
import { MINIMAL_ORG } from '../../../simulator/presets';
import { services, uniqueName } from '../../support/services';
import { startOrg } from '../../support/sync-harness';
import { waitFor } from '../../support/wait';
import { runCli, startCli } from './cli-process';

/**
 * A real-org first run with a restricted integration user, on the real services: the minimal org
 * (User only, 20 fields, API 58, none of the user-administration permissions), logged in with
 * the JWT bearer flow. `check` says what is off and which permission turns it on; `sync` imports
 * every user (the simulator's list is the truth) and the sink writes them to PostgreSQL; a status
 * filter that needs UserLogin refuses and deletes nothing.
 */
jest.setTimeout(240_000);

const USERS = 250;
let sim: Simulator;
let dir: string;
let pool: Pool;
const id = uniqueName('restricted').replace('-', '_');
const table = `${id}_users`;
let env: NodeJS.ProcessEnv;

function writeConfig(name: string, extra: string[] = []): string {
  const c = sim.credentials;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(join(dir, 'key.pem'), c.jwtPrivateKeyPem, { mode: 0o600 });
  writeFileSync(
    file,
    [
      `connectorName: ${id}`,
      `salesforceUrl: ${sim.url}`,
      'oauthFlow: jwt',
      `consumerKey: ${c.consumerKey}`,
      `username: ${c.username}`,
      `privateKeyFile: ${join(dir, 'key.pem')}`,
      'repeats: daily',
      'startTime: "02:00"',
      'salesforceTuning: { pollInitialMs: 20, pollMaxMs: 100, retryInitialMs: 5, retryAttempts: 2 }',
      `kafka: { brokers: ["${services().KAFKA_BROKERS}"] }`,
      `registry: { url: "${services().SCHEMA_REGISTRY_URL}" }`,
      `topics: { users: ${id}.users, loginHistory: ${id}.logins, state: ${id}.state, deadLetter: ${id}.dlq }`,
      'database: { urlEnv: R_DATABASE_URL }',
      `sink: { groupId: ${id}-sink, usersTable: ${table}, loginHistoryTable: ${id}_logins }`,
      'publisher: { lingerMs: 5 }',
      ...extra,
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

beforeAll(async () => {
  sim = await startOrg({ users: USERS, logins: 100, ...MINIMAL_ORG });
  dir = mkdtempSync(join(tmpdir(), 'restricted-'));
  pool = new Pool({ connectionString: services().DATABASE_URL, max: 2 });
  env = { R_DATABASE_URL: services().DATABASE_URL, LOG_LEVEL: 'info' };
});

afterAll(async () => {
  await pool?.end();
  await sim?.close();
});

describe('a restricted integration user on the minimal org', () => {
  it('check: passes, saying which features are off and the permission for each', async () => {
    const r = await runCli(['check', '-c', writeConfig('main')], env);
    expect(r.stdout).toMatch(/^✓ Salesforce login: jwt flow \(aud https:\/\/login\.salesforce\.com\) at/m);
    expect(r.stdout).toMatch(/^! Salesforce API version: the org serves up to 58\.0/m);
    expect(r.stdout).toMatch(/^! Salesforce User: 20 fields readable; not in this org or not visible .*AboutMe/m);
    expect(r.stdout).toMatch(/^! Salesforce LoginHistory: off: .*"Manage Users" or "Monitor Login History"/m);
    expect(r.stdout).toMatch(/^! Salesforce UserLogin: off: .*"Manage Users"/m);
    expect(r.stdout).not.toContain('✗');
    expect(r.code).toBe(0);
  });

  it('check: a status filter that needs UserLogin fails, naming the permission', async () => {
    const r = await runCli(['check', '-c', writeConfig('active-only', ['userStatus: [active]'])], env);
    expect(r.stdout).toMatch(
      /^✗ Salesforce UserLogin: userStatus active must tell active from frozen .*"Manage Users"/m,
    );
    expect(r.code).toBe(1);
  });

  it('sync imports every user with a warning, and the sink writes them to PostgreSQL', async () => {
    const r = await runCli(['sync', '-c', writeConfig('main')], env);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 'succeeded',
      usersExtracted: USERS,
      usersPublished: USERS,
      usersTombstoned: 0,
      loginEventsPublished: 0,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Salesforce feature off: LoginHistory is not readable/);
    const sink = startCli(['sink', '-c', writeConfig('main')], env);
    try {
      await waitFor(`${USERS} users in ${table}`, 120_000, async () => {
        const { rows } = await pool
          .query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}"`)
          .catch(() => ({ rows: [{ n: 0 }] }));
        return rows[0].n === USERS;
      });
    } finally {
      sink.child.kill('SIGTERM');
    }
    await sink.exited;
    const { rows } = await pool.query<{ id: string; username: string; email: string | null }>(
      `SELECT id, username, email FROM "${table}" ORDER BY id`,
    );
    expect(rows.map((x) => x.id)).toEqual(sim.userIds());
    for (const row of rows) {
      const truth = sim.userRow(row.id, ['Username', 'Email']);
      expect([row.username, row.email ?? '']).toEqual([truth.Username, truth.Email]);
    }
  });

  it('sync with a status filter that needs UserLogin refuses and deletes nothing', async () => {
    const r = await runCli(['sync', '-c', writeConfig('active-only', ['userStatus: [active]'])], env);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 'failed',
      usersTombstoned: 0,
      error: { code: 'SALESFORCE_PERMISSION_MISSING', message: expect.stringContaining('"Manage Users"') },
    });
  });
});
