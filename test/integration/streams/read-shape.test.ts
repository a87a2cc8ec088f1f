import type { Simulator } from '../../../simulator/api';
import type { Connector } from '../../../pipeline/connector';
import { PERMISSION_SET_ASSIGNMENTS } from '../../../schemas/streams';
import { connectorFor, settingsFor, startOrg } from '../../support/sync-harness';
import { latestRecords } from '../../support/stream-topics';
import { seededRandom } from '../../support/sync-oracle';

/**
 * A snapshot stream read incrementally compares each changed row with what was published before:
 * that holds only while the read selects the same fields. Describe decides them: a field the
 * integration user cannot see is skipped (field-level security, or an API version below the
 * field's), and it appears once granted. A first run while PermissionSetAssignment.PermissionSetGroupId
 * is hidden publishes every row without it; once an admin grants it, the next run must publish it
 * for EVERY row holding one (the simulator's rows are the truth), not only for the rows changed
 * since. Random org size and changes; replay with SYNC_SEED=<n>.
 */
let sim: Simulator;
let connector: Connector | undefined;

afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

it("a field granted since the last read is read for every row (the read's shape changed)", async () => {
  const rnd = seededRandom('read-shape');
  sim = await startOrg({
    users: 60 + Math.floor(rnd.next() * 80),
    logins: 50,
    seed: 1 + Math.floor(rnd.next() * 5000),
  });
  const settings = settingsFor(sim);
  const topic = settings.topics.streams![PERMISSION_SET_ASSIGNMENTS.name];
  const groupOf = () =>
    new Map(
      sim
        .objectRows('PermissionSetAssignment', ['Id', 'PermissionSetGroupId'])
        .map((r) => [r.Id, r.PermissionSetGroupId || null]),
    );

  sim.setFieldHidden('PermissionSetAssignment', 'PermissionSetGroupId', true);
  connector = await connectorFor(settings);
  expect((await connector.sync()).status).toBe('succeeded');
  const first = (await latestRecords(topic)).latest;
  expect([...first.values()].every((r) => r.permissionSetGroupId === null)).toBe(true);
  expect([...groupOf().values()].some((g) => g !== null)).toBe(true); // the org has group assignments

  // a few changes between the runs: those rows are read by the changed query either way
  const sets = sim
    .objectRows('PermissionSet', ['Name', 'IsOwnedByProfile'])
    .filter((r) => r.IsOwnedByProfile !== 'true')
    .map((r) => r.Name);
  for (const u of rnd.sample(sim.userIds(['active']), 1 + Math.floor(rnd.next() * 3))) {
    try {
      sim.assignPermissionSet(u, rnd.pick(sets));
    } catch {
      // already holds it
    }
  }

  sim.setFieldHidden('PermissionSetAssignment', 'PermissionSetGroupId', false);
  const run = await connector.sync();
  expect(run.status).toBe('succeeded');
  const { latest } = await latestRecords(topic);
  const want = groupOf();
  expect(new Set(latest.keys())).toEqual(new Set(want.keys()));
  const wrong = [...want].filter(([id, g]) => latest.get(id)!.permissionSetGroupId !== g).map(([id]) => id);
  expect({ wrong }).toEqual({ wrong: [] });
  expect(run.streams![PERMISSION_SET_ASSIGNMENTS.name].read!.kind).toBe('full');
});
