import { Client, Pool } from 'pg';
import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import { createPostgresSink, type PostgresSink } from '../../../sinks/postgres/sink';
import { registrySchemaSource } from '../../../sinks/postgres/schema-source';
import {
  PERMISSION_SET_ASSIGNMENTS,
  PERMISSION_SET_LICENSE_ASSIGNMENTS,
  STREAMS,
  USER_LICENSES,
} from '../../../schemas/streams';
import { waitFor } from '../../support/wait';
import { mulberry32 } from '../../../simulator/prng';
import { services, uniqueName } from '../../support/services';
import { connectorFor, kafkaClient, settingsFor, startOrg } from '../../support/sync-harness';
import { latestRecords } from '../../support/stream-topics';

/**
 * The licence streams end to end on the real services: simulator → run → Kafka (through the
 * registry) → PostgreSQL. They are declarations only (schemas/streams): every record on their
 * topics is compared with the simulator's data; a licence taken back in Salesforce is
 * tombstoned by the next run and its row leaves the table; the view answers "licences held by
 * users who have not logged in for N days" exactly as the simulator's users say.
 * The tables and the view are the generic PostgreSQL sink's, sinking every declared stream (no
 * licence-specific sink code exists). Randomised: LICENCES_SEED replays.
 */
const SEED = Number(process.env.LICENCES_SEED ?? Math.floor(Math.random() * 1_000_000));

console.log(`LICENCES_SEED=${SEED}`);
const rnd = mulberry32(SEED);
const DAY = 86_400_000;

let sim: Simulator;
let connector: Connector;
let settings: ConnectorSettings;
let db: Client;
let pool: Pool;
let sink: PostgresSink | undefined;
let schema = '';

beforeAll(async () => {
  sim = await startOrg({ users: 80 + Math.floor(rnd() * 150), logins: 500, seed: 1 + Math.floor(rnd() * 5000) });
  settings = settingsFor(sim, {}, ['active', 'inactive', 'frozen']);
  connector = await connectorFor(settings);
  db = new Client({ connectionString: services().DATABASE_URL });
  await db.connect();
});
afterAll(async () => {
  await sink?.stop();
  await pool?.end();
  if (schema) await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
  await connector?.close();
  await sim?.close();
});

const topic = (name: string) => settings.topics.streams![name];
const nullable = (v: string) => (v === '' ? null : v);

/** What each licence topic must hold, built from the simulator's records. */
function expectedLicences() {
  const ul = sim.objectRows('UserLicense', [
    'Id',
    'Name',
    'MasterLabel',
    'LicenseDefinitionKey',
    'Status',
    'TotalLicenses',
    'UsedLicenses',
  ]);
  const psla = sim.objectRows('PermissionSetLicenseAssign', [
    'Id',
    'AssigneeId',
    'PermissionSetLicenseId',
    'PermissionSetLicense.MasterLabel',
    'PermissionSetLicense.DeveloperName',
  ]);
  const psa = sim.objectRows('PermissionSetAssignment', [
    'Id',
    'AssigneeId',
    'PermissionSetId',
    'PermissionSet.Name',
    'PermissionSet.Label',
    'PermissionSet.IsOwnedByProfile',
    'PermissionSetGroupId',
  ]);
  return {
    [USER_LICENSES.name]: new Map(
      ul.map((r) => [
        r.Id,
        {
          id: r.Id,
          name: r.Name,
          masterLabel: r.MasterLabel,
          licenseDefinitionKey: r.LicenseDefinitionKey,
          status: r.Status,
          totalLicenses: Number(r.TotalLicenses),
          usedLicenses: Number(r.UsedLicenses),
        },
      ]),
    ),
    [PERMISSION_SET_LICENSE_ASSIGNMENTS.name]: new Map(
      psla.map((r) => [
        r.Id,
        {
          id: r.Id,
          userId: r.AssigneeId,
          permissionSetLicenseId: r.PermissionSetLicenseId,
          permissionSetLicenseLabel: r['PermissionSetLicense.MasterLabel'],
          permissionSetLicenseName: r['PermissionSetLicense.DeveloperName'],
        },
      ]),
    ),
    [PERMISSION_SET_ASSIGNMENTS.name]: new Map(
      psa.map((r) => [
        r.Id,
        {
          id: r.Id,
          userId: r.AssigneeId,
          permissionSetId: r.PermissionSetId,
          permissionSetName: r['PermissionSet.Name'],
          permissionSetLabel: r['PermissionSet.Label'],
          ownedByProfile: r['PermissionSet.IsOwnedByProfile'] === 'true',
          permissionSetGroupId: nullable(r.PermissionSetGroupId),
        },
      ]),
    ),
  };
}

async function expectTopicsAreTheOrg(): Promise<void> {
  for (const [name, want] of Object.entries(expectedLicences())) {
    const { latest } = await latestRecords(topic(name));
    expect({ name, keys: [...latest.keys()].sort() }).toEqual({ name, keys: [...want.keys()].sort() });
    for (const [id, rec] of want)
      expect(latest.get(id)).toMatchObject({ ...rec, orgId: sim.orgId, connectorName: settings.connectorName });
  }
}

/** UsedLicenses as the simulator's users say: the active users whose profile carries the licence. */
function usedFromUsers(): Map<string, number> {
  const used = new Map<string, number>();
  for (const id of sim.userIds(['active', 'frozen'])) {
    const licence = sim.userRow(id, ['Profile.UserLicenseId'])['Profile.UserLicenseId'];
    used.set(licence, (used.get(licence) ?? 0) + 1);
  }
  return used;
}

// ---- the sink: the generic PostgreSQL sink over every declared stream, in a schema of this test's own ----

const snake = (f: string) => f.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/** Starts the real sink (every declared stream, this test's topics, tables in its own schema). */
async function startSink(): Promise<void> {
  schema = uniqueName('lic').replace(/-/g, '_');
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`SET search_path TO ${schema}`);
  pool = new Pool({ connectionString: services().DATABASE_URL, max: 4 });
  const topics: Record<string, string> = {
    ...settings.topics.streams,
    users: settings.topics.users,
    logins: settings.topics.logins,
    deadLetter: settings.topics.deadLetter,
  };
  const tables = Object.fromEntries(STREAMS.map((d) => [d.name, { schema, name: d.sink.table }]));
  sink = createPostgresSink({
    kafka: kafkaClient(),
    pool,
    schemas: registrySchemaSource({ url: services().SCHEMA_REGISTRY_URL }),
    streams: STREAMS,
    topics: topics as { deadLetter: string } & Record<string, string>,
    tables,
    groupId: uniqueName('lic-sink'),
  });
  await sink.start();
}

/** Waits until the sink has stored offsets at the end of every topic it reads. */
async function sinkCaughtUp(): Promise<void> {
  const topics = [settings.topics.users, settings.topics.logins, ...Object.values(settings.topics.streams ?? {})];
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    await waitFor('the sink to store offsets at the end of every topic', 90_000, async () => {
      for (const t of topics) {
        const { rows } = await db.query<{ partition: number; next_offset: string }>(
          'SELECT partition, next_offset FROM neurons_sink_offsets WHERE topic = $1',
          [t],
        );
        for (const end of await admin.fetchTopicOffsets(t)) {
          const at = rows.find((r) => r.partition === end.partition)?.next_offset ?? '0';
          if (BigInt(end.high) > BigInt(at)) return false;
        }
      }
      return true;
    });
  } finally {
    await admin.disconnect();
  }
}

/** Every licence table holds exactly the simulator's rows, column by column. */
async function expectTablesAreTheOrg(): Promise<void> {
  for (const [name, want] of Object.entries(expectedLicences())) {
    const decl = STREAMS.find((d) => d.name === name)!;
    const { rows } = await db.query(`SELECT * FROM ${schema}.${decl.sink.table} ORDER BY id`);
    expect({ name, ids: rows.map((r) => r.id) }).toEqual({ name, ids: [...want.keys()].sort() });
    for (const row of rows) {
      const rec = want.get(row.id as string) as Record<string, unknown>;
      const got = Object.fromEntries(Object.keys(rec).map((f) => [f, row[snake(f)]]));
      expect(got).toEqual(rec);
    }
  }
}

/** The view's rows as the simulator's data says they must be, at the database's `now`. */
function expectedHolders(
  nowMs: number,
): Map<string, { user_name: string | null; last_login_at: number | null; days_since_login: number }> {
  const out = new Map<string, { user_name: string | null; last_login_at: number | null; days_since_login: number }>();
  const users = new Map(
    sim
      .userIds(['active', 'inactive', 'frozen'])
      .map((id) => [
        id,
        sim.userRow(id, ['Name', 'IsActive', 'LastLoginDate', 'CreatedDate', 'Profile.UserLicense.Id']),
      ]),
  );
  const row = (id: string) => {
    const u = users.get(id)!;
    const last = u.LastLoginDate ? Date.parse(u.LastLoginDate) : null;
    return {
      user_name: nullable(u.Name),
      last_login_at: last,
      days_since_login: Math.floor((nowMs - (last ?? Date.parse(u.CreatedDate))) / DAY),
    };
  };
  for (const [id, u] of users)
    if (u.IsActive === 'true') out.set(`${id}|user-license|${u['Profile.UserLicense.Id']}`, row(id));
  for (const a of sim.objectRows('PermissionSetLicenseAssign', ['AssigneeId', 'PermissionSetLicenseId'])) {
    out.set(`${a.AssigneeId}|permission-set-license|${a.PermissionSetLicenseId}`, row(a.AssigneeId));
  }
  return out;
}

async function expectViewIsTheOrg(): Promise<void> {
  const { rows } = await db.query(`SELECT h.*, now() AS db_now FROM ${schema}.neurons_licence_inactive_holders h`);
  const nowMs = rows.length > 0 ? (rows[0].db_now as Date).getTime() : Date.now();
  const want = expectedHolders(nowMs);
  const got = new Map(
    rows.map((r) => [
      `${r.user_id}|${r.licence_kind}|${r.licence_id}`,
      {
        user_name: r.user_name,
        last_login_at: r.last_login_at ? (r.last_login_at as Date).getTime() : null,
        days_since_login: r.days_since_login,
      },
    ]),
  );
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, v] of want) expect(got.get(k)).toEqual(v);
  // the question itself: licences held by users who have not logged in for N days
  const n = 1 + Math.floor(rnd() * 200);
  const { rows: idle } = await db.query(
    `SELECT user_id, licence_kind, licence_id, now() AS db_now FROM ${schema}.neurons_licence_inactive_holders ` +
      'WHERE days_since_login >= $1',
    [n],
  );
  const at = idle.length > 0 ? (idle[0].db_now as Date).getTime() : nowMs;
  const wantIdle = [...expectedHolders(at)]
    .filter(([, v]) => v.days_since_login >= n)
    .map(([k]) => k)
    .sort();
  expect(idle.map((r) => `${r.user_id}|${r.licence_kind}|${r.licence_id}`).sort()).toEqual(wantIdle);
}

it('licences reach Kafka and PostgreSQL as the org holds them, tombstones included; the view answers', async () => {
  const first = await connector.sync();
  expect(first.status).toBe('succeeded');
  const want = expectedLicences();
  for (const [name, m] of Object.entries(want))
    expect(first.streams?.[name]).toMatchObject({ extracted: m.size, published: m.size, tombstoned: 0 });
  await expectTopicsAreTheOrg();
  // UsedLicenses is what the users say (the simulator's consistency, seen through the topic)
  const { latest: licences } = await latestRecords(topic(USER_LICENSES.name));
  const used = usedFromUsers();
  for (const [id, rec] of licences) expect(rec.usedLicenses).toBe(used.get(id) ?? 0);

  await startSink();
  await sinkCaughtUp();
  await expectTablesAreTheOrg();
  await expectViewIsTheOrg();

  // Salesforce changes: a licence taken back, one given, a permission set removed, a total changed
  const psla = [...want[PERMISSION_SET_LICENSE_ASSIGNMENTS.name].values()] as { id: string; userId: string }[];
  const takenBack = psla[Math.floor(rnd() * psla.length)];
  sim.unassignPermissionSetLicense(takenBack.id);
  const holders = new Set(psla.map((a) => a.userId));
  const newHolder = sim.userIds(['active']).find((u) => !holders.has(u))!;
  sim.assignPermissionSetLicense(newHolder, 'IdentityConnect');
  const psa = ([...want[PERMISSION_SET_ASSIGNMENTS.name].values()] as { id: string; ownedByProfile: boolean }[]).filter(
    (a) => !a.ownedByProfile,
  );
  const removed = psa[Math.floor(rnd() * psa.length)];
  sim.unassignPermissionSet(removed.id);
  sim.setLicenseTotal('IdentityConnect', 7 + Math.floor(rnd() * 100));
  sim.setLicenseTotal('SFDC', 500 + Math.floor(rnd() * 1000));

  const second = await connector.sync();
  expect(second.status).toBe('succeeded');
  expect(second.streams?.[PERMISSION_SET_LICENSE_ASSIGNMENTS.name]).toMatchObject({ published: 1, tombstoned: 1 });
  expect(second.streams?.[PERMISSION_SET_ASSIGNMENTS.name]).toMatchObject({ published: 0, tombstoned: 1 });
  expect(second.streams?.[USER_LICENSES.name]).toMatchObject({ published: 1, tombstoned: 0 });
  await expectTopicsAreTheOrg();
  const { tombstones } = await latestRecords(topic(PERMISSION_SET_LICENSE_ASSIGNMENTS.name));
  expect(tombstones).toBe(1);

  await sinkCaughtUp();
  await expectTablesAreTheOrg();
  const gone = await db.query(
    `SELECT count(*)::int AS n FROM ${schema}.neurons_permission_set_license_assignments WHERE id = $1`,
    [takenBack.id],
  );
  expect(gone.rows[0].n).toBe(0);
  const rows = await db.query(
    `SELECT id, user_id FROM ${schema}.neurons_permission_set_license_assignments ORDER BY id`,
  );
  expect(rows.rows.map((r) => r.id)).toEqual(
    [...expectedLicences()[PERMISSION_SET_LICENSE_ASSIGNMENTS.name].keys()].sort(),
  );
  await expectViewIsTheOrg();
});
