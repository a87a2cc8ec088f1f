import { Client } from 'pg';
import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { fromConfig, type PostgresSink } from '../../../sinks';
import { services, uniqueName } from '../../support/services';
import { connectorFor, settingsFor, startOrg } from '../../support/sync-harness';

/**
 * Salesforce (simulated) → sync run → Kafka → sink → PostgreSQL, the whole product on the real
 * services: the tables hold exactly the selected users of the org, every login event once, and
 * a user deactivated in Salesforce disappears from the table after the next run.
 */
let sim: Simulator;
let connector: Connector;
let sink: PostgresSink;
let db: Client;
let table = '';

afterAll(async () => {
  await sink?.stop();
  // CASCADE: the sink also created the declared licence view over this test's users table
  if (table) await db.query(`DROP TABLE IF EXISTS ${table}_users, ${table}_logins CASCADE`);
  await connector?.close();
  await sim?.close();
  await db?.end();
});

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

it('the tables follow the org: users upserted, logins once, a deactivated user deleted', async () => {
  sim = await startOrg({ users: 400, logins: 4000 });
  const settings: ConnectorSettings = settingsFor(sim, {}, ['active', 'frozen']);
  connector = await connectorFor(settings);
  const env = services();
  const t = (table = uniqueName('e2e').replace(/-/g, '_'));
  db = new Client({ connectionString: env.DATABASE_URL });
  await db.connect();
  const first = await connector.sync();
  expect(first.status).toBe('succeeded');

  sink = fromConfig({
    kafka: { brokers: [env.KAFKA_BROKERS], clientId: t },
    registry: { url: env.SCHEMA_REGISTRY_URL },
    databaseUrl: env.DATABASE_URL,
    topics: { users: settings.topics.users, logins: settings.topics.logins, deadLetter: settings.topics.deadLetter },
    tables: { users: `${t}_users`, logins: `${t}_logins` },
    groupId: `${t}-sink`,
  });
  await sink.start();

  const expected = sim.userIds(['active', 'frozen']).sort();
  const ids = async () =>
    (await db.query(`SELECT id FROM ${t}_users ORDER BY id`)).rows.map((r: { id: string }) => r.id);
  await until('users in the table', ids, (v) => v.length === expected.length);
  expect(await ids()).toEqual(expected);
  const probe = expected[3];
  const row = sim.userRow(probe, ['Username', 'City']);
  const { rows } = await db.query(`SELECT username, city, preferences FROM ${t}_users WHERE id = $1`, [probe]);
  expect(rows[0]).toMatchObject({ username: row.Username, city: row.City || null });
  expect(typeof rows[0].preferences).toBe('object');

  const logins = await until(
    'login events',
    async () => Number((await db.query(`SELECT count(*) FROM ${t}_logins`)).rows[0].count),
    (n) => n === first.loginEventsPublished,
  );
  expect(logins).toBe(first.loginEventsPublished);

  // deactivate a user in Salesforce, add logins, run again
  const gone = expected[5];
  sim.setUserState(gone, 'inactive');
  sim.addLogins(25, { userId: expected[0] }); // an imported user's: only theirs are published
  const second = await connector.sync();
  expect(second).toMatchObject({ status: 'succeeded', usersTombstoned: 1, loginEventsPublished: 25 });
  await until(
    'the deactivated user deleted',
    async () => (await db.query(`SELECT count(*) FROM ${t}_users WHERE id = $1`, [gone])).rows[0].count,
    (c) => c === '0',
  );
  expect((await ids()).length).toBe(expected.length - 1);
  const total = await until(
    'all login events',
    async () => Number((await db.query(`SELECT count(*) FROM ${t}_logins`)).rows[0].count),
    (n) => n === first.loginEventsPublished + 25,
  );
  const distinct = Number((await db.query(`SELECT count(DISTINCT id) FROM ${t}_logins`)).rows[0].count);
  expect(distinct).toBe(total);
});
