import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import type { Simulator } from '../../../simulator/api';
import { services, uniqueName } from '../../support/services';
import { startOrg } from '../../support/sync-harness';
import { waitFor } from '../../support/wait';
import { runCli, startCli } from '../cli/cli-process';

/**
 * One file per role, as docs/security.md recommends: the connector's has no database, the sink's
 * no Salesforce option, and each process gets only its own secrets in its environment. Then the
 * refusals: a file for the wrong role, a secret file others can read; and the transport warning
 * said at every start.
 */
jest.setTimeout(240_000);

const USERS = 300;
const id = uniqueName('roles').replace('-', '_');
const tables = { users: `${id}_users`, logins: `${id}_logins` };
let sim: Simulator;
let dir: string;
let pool: Pool;
let connectorFile: string;
let sinkFile: string;
/** Only what each role needs: the connector never sees the database URL, the sink no Salesforce secret. */
let connectorEnv: NodeJS.ProcessEnv;
let sinkEnv: NodeJS.ProcessEnv;
const shared = () => [
  `connectorName: ${id}`,
  `kafka: { brokers: ["${services().KAFKA_BROKERS}"] }`,
  `registry: { url: "${services().SCHEMA_REGISTRY_URL}" }`,
  `topics: { users: ${id}.users, loginHistory: ${id}.logins, state: ${id}.state, deadLetter: ${id}.dlq }`,
];

function secretFile(name: string, value: string, mode = 0o600): string {
  const file = join(dir, name);
  writeFileSync(file, `${value}\n`);
  chmodSync(file, mode);
  return file;
}

function connectorConfig(name: string, tokenMode = 0o600): string {
  const c = sim.credentials;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      'role: connector',
      ...shared(),
      `salesforceUrl: ${sim.url}`,
      `consumerKey: ${c.consumerKey}`,
      'consumerSecretEnv: ROLES_SF_SECRET',
      `username: ${c.username}`,
      'passwordEnv: ROLES_SF_PASSWORD',
      `securityTokenFile: ${secretFile(`${name}-token`, c.securityToken, tokenMode)}`,
      'userStatus: [active, inactive, frozen]',
      'salesforceTuning: { pollInitialMs: 20, pollMaxMs: 100, pageSize: 100, retryInitialMs: 5, retryAttempts: 2 }',
      'publisher: { lingerMs: 5 }',
    ].join('\n'),
  );
  return file;
}

beforeAll(async () => {
  sim = await startOrg({ users: USERS, logins: 600, defaultPageSize: 100 });
  dir = mkdtempSync(join(tmpdir(), 'roles-'));
  pool = new Pool({ connectionString: services().DATABASE_URL, max: 2 });
  connectorFile = connectorConfig('connector');
  sinkFile = join(dir, 'sink.yaml');
  writeFileSync(
    sinkFile,
    [
      'role: sink',
      ...shared(),
      'database: { urlEnv: ROLES_DATABASE_URL }',
      `sink: { groupId: ${id}-sink, usersTable: ${tables.users}, loginHistoryTable: ${tables.logins} }`,
      'metrics: { port: 0 }',
    ].join('\n'),
  );
  // The variables of the other role are removed, not just left out: the test process has some.
  const without = Object.fromEntries(['DATABASE_URL'].map((k) => [k, undefined]));
  connectorEnv = {
    ...without,
    ROLES_SF_SECRET: sim.credentials.consumerSecret,
    ROLES_SF_PASSWORD: sim.credentials.password,
    NODE_TLS_REJECT_UNAUTHORIZED: '0',
  };
  sinkEnv = { ...without, ROLES_DATABASE_URL: services().DATABASE_URL, NODE_TLS_REJECT_UNAUTHORIZED: '0' };
});

afterAll(async () => {
  await pool?.query(`DROP TABLE IF EXISTS "${tables.users}", "${tables.logins}"`).catch(() => undefined);
  await pool?.end();
  await sim?.close();
});

/** The messages of the warn lines in a process's JSON log output. */
function warnings(stderr: string): string[] {
  return stderr.split('\n').flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      return entry.level === 'warn' && entry.msg ? [entry.msg] : [];
    } catch {
      return [];
    }
  });
}

describe('one file per role', () => {
  it('check: the connector file is checked without the database, the sink file without Salesforce', async () => {
    const c = await runCli(['check', '-c', connectorFile], connectorEnv);
    expect(c.stdout).toContain('All checks passed.');
    expect(c.stdout).toMatch(/^✓ Salesforce login: /m);
    expect(c.stdout).not.toMatch(/Database/);
    const s = await runCli(['check', '-c', sinkFile], sinkEnv);
    expect(s.stdout).toContain('All checks passed.');
    expect(s.stdout).toMatch(/^✓ Database: /m);
    expect(s.stdout).not.toMatch(/^. Salesforce/m);
    // the transport warning is printed by check too
    expect(s.stdout).toMatch(/^! Transport: NODE_TLS_REJECT_UNAUTHORIZED=0/m);
  });

  it('sync runs from the connector file; the sink from the sink file writes every user of the org', async () => {
    const sync = await runCli(['sync', '-c', connectorFile], connectorEnv);
    expect(sync.code).toBe(0);
    expect(JSON.parse(sync.stdout)).toMatchObject({ status: 'succeeded', usersExtracted: USERS });
    expect(warnings(sync.stderr)).toContainEqual(
      expect.stringMatching(/^insecure transport: NODE_TLS_REJECT_UNAUTHORIZED=0/),
    );
    const sink = startCli(['sink', '-c', sinkFile], sinkEnv);
    try {
      await waitFor(`${USERS} users in ${tables.users}`, 120_000, async () => {
        const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${tables.users}"`);
        return Number(rows[0].n) === sim.userIds(['active', 'inactive', 'frozen']).length;
      });
    } finally {
      sink.child.kill('SIGTERM');
    }
    expect(await sink.exited).toBe(0);
    expect(warnings(sink.stderr())).toContainEqual(
      expect.stringMatching(/^insecure transport: NODE_TLS_REJECT_UNAUTHORIZED=0/),
    );
  });

  it("a command given the other role's file refuses it, exit 2, naming role", async () => {
    const sync = await runCli(['sync', '-c', sinkFile], sinkEnv);
    expect(sync.code).toBe(2);
    expect(sync.stderr).toMatch(/- role: is sink: this file is the sink's, and this command runs the connector/);
    const sink = await runCli(['sink', '-c', connectorFile], connectorEnv);
    expect(sink.code).toBe(2);
    expect(sink.stderr).toMatch(/- role: is connector/);
  });

  it('a security token file others can read is refused at start, exit 2, with the fix', async () => {
    const sync = await runCli(['sync', '-c', connectorConfig('readable', 0o644)], connectorEnv);
    expect(sync.code).toBe(2);
    expect(sync.stderr).toMatch(
      /- securityTokenFile: is readable by its group and every user \(mode 0644\).*chmod 600/,
    );
    expect(sync.stderr).not.toContain(sim.credentials.securityToken);
  });
});
