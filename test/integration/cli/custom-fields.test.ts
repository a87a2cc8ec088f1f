import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import type { Simulator } from '../../../simulator/api';
import { registryClient } from '../../../schemas/registry-client';
import { services, uniqueName } from '../../support/services';
import { startOrg } from '../../support/sync-harness';
import { waitFor } from '../../support/wait';
import { runCli, startCli } from './cli-process';

/**
 * Custom fields on the real services: a connector first runs with the shipped mapping, then its
 * config adds custom User fields, excludes AboutMe and hashes Email. The user schema evolves in
 * the registry (a second version, accepted as BACKWARD-compatible), the sink adds the columns, and
 * the table holds the simulator's values (hashed where asked). Replay the random values with SEED.
 */
jest.setTimeout(240_000);

const USERS = 150;
const SALT = 'integration-salt-0123456789';
const seed = Number(process.env.SEED ?? Date.now() % 100000);
let sim: Simulator;
let dir: string;
let pool: Pool;
const id = uniqueName('custom').replace('-', '_');
const table = `${id}_users`;
const env = (): NodeJS.ProcessEnv => ({
  C_DATABASE_URL: services().DATABASE_URL,
  C_SF_SECRET: sim.credentials.consumerSecret,
  C_SF_PASSWORD: sim.credentials.password,
  C_SALT: SALT,
  LOG_LEVEL: 'warn',
});

function writeConfig(name: string, extra: string[] = []): string {
  const c = sim.credentials;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `connectorName: ${id}`,
      `salesforceUrl: ${sim.url}`,
      `consumerKey: ${c.consumerKey}`,
      'consumerSecret: ${env:C_SF_SECRET}',
      `username: ${c.username}`,
      'passwordEnv: C_SF_PASSWORD',
      `securityToken: "${c.securityToken}"`,
      'salesforceTuning: { pollInitialMs: 20, pollMaxMs: 100, retryInitialMs: 5, retryAttempts: 2 }',
      `kafka: { brokers: ["${services().KAFKA_BROKERS}"] }`,
      `registry: { url: "${services().SCHEMA_REGISTRY_URL}" }`,
      `topics: { users: ${id}.users, loginHistory: ${id}.logins, state: ${id}.state, deadLetter: ${id}.dlq }`,
      'database: { urlEnv: C_DATABASE_URL }',
      `sink: { groupId: ${id}-sink, usersTable: ${table}, loginHistoryTable: ${id}_logins }`,
      'publisher: { lingerMs: 5 }',
      ...extra,
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

const CUSTOM = [
  'fields:',
  '  include: { Region__c: string, Quota__c: double, IsContractor__c: boolean }',
  '  exclude: [AboutMe]',
  '  hash: [Email]',
  'hashSaltEnv: C_SALT',
];

beforeAll(async () => {
  sim = await startOrg({ users: USERS, logins: 50 });
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const u of sim.userIds()) {
    if (rnd() < 0.4) continue;
    sim.updateUser(u, {
      Region__c: ['EMEA', 'AMER', 'APAC'][Math.floor(rnd() * 3)],
      Quota__c: Math.round(rnd() * 1e6) / 100,
      IsContractor__c: rnd() < 0.3,
      AboutMe: `secret bio ${u}`,
    });
  }
  dir = mkdtempSync(join(tmpdir(), 'custom-'));
  pool = new Pool({ connectionString: services().DATABASE_URL, max: 2 });
});

afterAll(async () => {
  await pool?.end();
  await sim?.close();
});

describe(`custom fields, excluded and hashed ones, end to end (seed ${seed})`, () => {
  it('mapping export --config shows the effective mapping', async () => {
    const r = await runCli(['mapping', 'export', '--config', writeConfig('custom', CUSTOM)], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^User,Region__c,Region__c,string,no,Custom User field Region__c/m);
    expect(r.stdout).toMatch(/^User,Quota__c,Quota__c,double,no,/m);
    expect(r.stdout).toMatch(/^User,AboutMe,aboutMe,string,no,.*excluded: never read/m);
    expect(r.stdout).toMatch(/^User,Email,email,string,no,.*HMAC-SHA-256/m);
  });

  it("the schema evolves in the registry, the sink adds the columns, the table holds the org's values", async () => {
    const first = await runCli(['sync', '-c', writeConfig('plain')], env());
    expect(JSON.parse(first.stdout)).toMatchObject({ status: 'succeeded', usersExtracted: USERS });
    const second = await runCli(['sync', '-c', writeConfig('custom', CUSTOM)], env());
    expect(JSON.parse(second.stdout)).toMatchObject({
      status: 'succeeded',
      usersExtracted: USERS,
      usersPublished: USERS,
    });
    const versions = await registryClient({ url: services().SCHEMA_REGISTRY_URL }).versions(`${id}.users-value`);
    expect(versions).toEqual([1, 2]);

    const sink = startCli(['sink', '-c', writeConfig('custom', CUSTOM)], env());
    type Row = {
      id: string;
      region__c: string | null;
      quota__c: number | null;
      is_contractor__c: boolean | null;
      email: string | null;
      about_me: string | null;
    };
    let rows: Row[] = [];
    try {
      await waitFor(`${USERS} users with the custom columns in ${table}`, 120_000, async () => {
        const r = await pool
          .query<Row>(`SELECT id, region__c, quota__c, is_contractor__c, email, about_me FROM "${table}" ORDER BY id`)
          .catch(() => null);
        rows = r?.rows ?? [];
        return rows.length === USERS && rows.every((x) => x.email === null || /^[0-9a-f]{64}$/.test(x.email));
      });
    } finally {
      sink.child.kill('SIGTERM');
    }
    await sink.exited;
    expect(rows.map((r) => r.id)).toEqual(sim.userIds());
    const hmac = (v: string) => createHmac('sha256', SALT).update(v).digest('hex');
    for (const row of rows) {
      const t = sim.userRow(row.id, ['Region__c', 'Quota__c', 'IsContractor__c', 'Email']);
      expect({
        id: row.id,
        region: row.region__c,
        quota: row.quota__c,
        contractor: row.is_contractor__c,
        email: row.email,
        aboutMe: row.about_me,
      }).toEqual({
        id: row.id,
        region: t.Region__c || null,
        quota: t.Quota__c === '' ? null : Number(t.Quota__c),
        contractor: t.IsContractor__c === '' ? null : t.IsContractor__c === 'true',
        email: t.Email ? hmac(t.Email) : null,
        aboutMe: null,
      });
    }
  });
});
