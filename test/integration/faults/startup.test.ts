import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { FatalError } from '../../../kernel/errors';
import { parseConnectorConfig, toConnectorSettings, ConfigError } from '../../../pipeline/config';
import { loadConnectorSchemas } from '../../../schemas/avro';
import { registryFromConfig } from '../../../schemas/registry';
import { registryClient } from '../../../schemas/registry-client';
import { services } from '../../support/services';
import { connectorFor } from '../../support/sync-harness';
import {
  closeRigsAfterEachTest,
  expectConsistent,
  faultRig,
  tableSnapshot,
  topicEnds,
  type FaultRig,
} from '../../support/fault-harness';

/**
 * Faults at start-up: a config with a wrong password, one with an unknown user status, and an
 * incompatible schema in the registry. Each gives a clear error and changes nothing downstream.
 */
let rig: FaultRig | undefined;
closeRigsAfterEachTest();

/** The connector's config file, as `connector sync --config` would read it, for this rig's org and topics. */
function configFor(r: FaultRig, over: Record<string, unknown> = {}): Record<string, unknown> {
  const c = r.sim.credentials;
  const s = r.settings;
  return {
    connectorName: s.connectorName,
    salesforceUrl: r.sim.url,
    consumerKey: c.consumerKey,
    consumerSecret: c.consumerSecret,
    username: c.username,
    password: c.password,
    securityToken: c.securityToken,
    userStatus: r.statuses,
    salesforceTuning: { pollInitialMs: 20, pollMaxMs: 100, pageSize: 100, retryInitialMs: 5, retryAttempts: 2 },
    kafka: { brokers: s.kafka.brokers },
    registry: { url: services().SCHEMA_REGISTRY_URL },
    topics: {
      users: s.topics.users,
      loginHistory: s.topics.logins,
      state: s.topics.state,
      deadLetter: s.topics.deadLetter,
    },
    database: { url: services().DATABASE_URL },
    sink: { groupId: r.sinkConfig.groupId, usersTable: r.tables.users, loginHistoryTable: r.tables.logins },
    ...over,
  };
}
const sources = {
  env: {},
  readFile: (): string => {
    throw new Error('no files');
  },
};

/** A healthy run in the tables, then the state downstream that a bad start must leave as it is. */
async function healthy(r: FaultRig) {
  expect((await (await r.connector()).sync()).status).toBe('succeeded');
  await r.startSink();
  await expectConsistent(r);
  return { ends: await topicEnds(r), tables: await tableSnapshot(r) };
}

async function expectUnchanged(r: FaultRig, before: Awaited<ReturnType<typeof healthy>>, loginsNotYetRead = 0) {
  expect(await topicEnds(r)).toEqual(before.ends);
  expect(await tableSnapshot(r)).toEqual(before.tables);
  await expectConsistent(r, 60_000, { loginsNotYetRead });
}

it('the config itself is sound: the same file with the right password runs', async () => {
  rig = await faultRig();
  const c = await connectorFor(toConnectorSettings(parseConnectorConfig(configFor(rig), sources)));
  try {
    expect((await c.sync()).status).toBe('succeeded');
  } finally {
    await c.close();
  }
  await rig.startSink();
  await expectConsistent(rig);
});

it('a wrong password: the run fails with the login rejection named, nothing changes downstream', async () => {
  rig = await faultRig();
  const before = await healthy(rig);
  // there would be something to publish: events of an imported user (only those are published)
  rig.sim.addLogins(10, { userId: rig.sim.userIds(rig.statuses)[0] });
  const settings = toConnectorSettings(parseConnectorConfig(configFor(rig, { password: 'Not-The-Password' }), sources));
  const c = await connectorFor(settings);
  try {
    const run = await c.sync();
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('SALESFORCE_AUTH_FAILED');
    expect(run.error?.message).toMatch(/invalid_grant/);
    expect(run.error?.message).toMatch(/authentication failure/i);
    expect(run.error?.message).not.toContain('Not-The-Password');
    expect(run.usersTombstoned).toBe(0);
  } finally {
    await c.close();
  }
  await expectUnchanged(rig, before, 10); // the 10 new events wait for a run that can log in
});

it('an unknown user status: refused naming it and the allowed values, nothing changes downstream', async () => {
  rig = await faultRig();
  const before = await healthy(rig);
  const attempt = () =>
    parseConnectorConfig(configFor(rig!, { userStatus: ['active', 'suspended'] }), sources, 'acme.yaml');
  expect(attempt).toThrow(ConfigError);
  const err = (() => {
    try {
      attempt();
    } catch (e) {
      return e as ConfigError;
    }
    throw new Error('not refused');
  })();
  expect(err.code).toBe('CONFIG_INVALID');
  expect(err.message).toContain('userStatus: has an unknown status');
  expect(err.message).toContain('suspended');
  expect(err.message).toContain('allowed: active, inactive, frozen');
  await expectUnchanged(rig, before);
});

it('schema incompatible at start-up: SCHEMA_INCOMPATIBLE, why; nothing downstream; consistent once fixed', async () => {
  rig = await faultRig();
  const subject = `${rig.settings.topics.users}-value`;
  // another writer registered the users subject first, with isActive as a string
  const shipped = loadConnectorSchemas().userValue as { fields: { name: string; type: unknown }[] };
  const theirs = {
    ...shipped,
    fields: shipped.fields.map((f) => (f.name === 'isActive' ? { ...f, type: 'string' } : f)),
  };
  const { registry } = registryFromConfig({ url: services().SCHEMA_REGISTRY_URL });
  await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(theirs) }, { subject });
  const client = registryClient({ url: services().SCHEMA_REGISTRY_URL });
  const versions = () => client.versions(subject);
  expect(await versions()).toEqual([1]);

  const start = rig.connector();
  await expect(start).rejects.toBeInstanceOf(FatalError);
  const err = (await start.catch((e: unknown) => e)) as FatalError;
  expect(err.code).toBe('SCHEMA_INCOMPATIBLE');
  expect(err.message).toContain(`the schema for subject ${subject} is incompatible with its registered versions`);
  expect(err.message).toMatch(/Incompatible artifact/);
  // nothing downstream: the subject as it was, no record on any topic, the sink writes nothing
  expect(await versions()).toEqual([1]);
  expect(await topicEnds(rig).catch(() => ({ users: 0, logins: 0 }))).toEqual({ users: 0, logins: 0 });
  expect((await rig.pool.query('SELECT to_regclass($1) AS t', [rig.tables.users])).rows[0].t).toBeNull();

  // the operator removes the other writer's subject: the next start-up and run are healthy
  await client.deleteSubject(subject);
  await client.deleteSubject(subject, { permanent: true });
  expect((await (await rig.connector()).sync()).status).toBe('succeeded');
  await rig.startSink();
  await expectConsistent(rig);
});
