/**
 * The incremental users read's pieces against the simulator (the source of truth): the Id
 * snapshot is exactly the selection, the changed rows are exactly the selected users whose User row
 * changed since the watermark (freezing is not such a change: UserLogin), and rows by Id equal the
 * full snapshot's rows of those users. Random changes and selections; replay with SYNC_SEED=<n>.
 */
import { FROZEN_KEY, type UserStatus, type UsersResult } from '../../../../connectors/salesforce';
import type { Row } from '../../../../connectors/salesforce/csv-page';
import type { Simulator, SimUserState } from '../../../../simulator/api';
import { seededRandom } from '../../../support/sync-oracle';
import { drain, extractor, realNow, startSim } from './sim-helpers';

const SELECTIONS: UserStatus[][] = [['active'], ['frozen'], ['active', 'frozen'], ['active', 'inactive', 'frozen']];

describe('incremental users reads against the simulator', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSim({ users: 400, now: realNow() });
  });
  afterAll(() => sim.close());

  it.each(SELECTIONS)('reads the Id snapshot, the changed rows and rows by Id exactly (%j)', async (...statuses) => {
    const rnd = seededRandom(`user-reads ${statuses.join('+')}`);
    const ex = extractor(sim, { userStatuses: statuses, pageSize: 70 });
    const full = await drain(ex.users());
    expect(full.error).toBeUndefined();
    const watermark = (full.result as UsersResult).maxSystemModstamp!;
    const stamps = sim.userIds().map((id) => sim.userRow(id, ['SystemModstamp']).SystemModstamp);
    // the watermark is Salesforce's own highest value among the users read
    const readStamps = full.rows.map((r) => r.SystemModstamp);
    expect(watermark).toBe(readStamps.reduce((a, b) => (a > b ? a : b)));
    expect(stamps.includes(watermark)).toBe(true);

    // random changes after the watermark
    for (const id of rnd.sample(sim.userIds(['active']), 4)) sim.updateUser(id, { Title: `T ${rnd.next()}` });
    for (const id of rnd.sample(sim.userIds(['frozen']), 2)) sim.updateUser(id, { Title: `F ${rnd.next()}` });
    for (const id of rnd.sample(sim.userIds(['active']), 3)) sim.setUserState(id, 'frozen');
    for (const id of rnd.sample(sim.userIds(['frozen']), 2)) sim.setUserState(id, 'active');
    for (const id of rnd.sample(sim.userIds(['active']), 2)) sim.setUserState(id, 'inactive');
    for (const id of rnd.sample(sim.userIds(['inactive']), 2)) sim.setUserState(id, 'active');
    for (const id of rnd.sample(sim.userIds(), 2)) sim.deleteUser(id);
    sim.addUser({ LastName: `New ${rnd.next()}` });
    // the changes above may leave no changed user in a small selection (the frozen users edited may
    // have been unfrozen or deleted since): one more edit inside the selection keeps the case meaningful
    sim.updateUser(rnd.pick(sim.userIds(statuses as SimUserState[])), { Title: `S ${rnd.next()}` });

    const reads = await extractor(sim, { userStatuses: statuses, pageSize: 70 }).userReads!();
    const selected = sim.userIds(statuses as SimUserState[]);
    expect(reads.frozenUsers).toBe(sim.userIds(['frozen']).length);

    const ids = await drain(reads.ids());
    expect(ids.error).toBeUndefined();
    expect(ids.rows.map((r) => r.Id).sort()).toEqual(selected);
    const frozen = new Set(sim.userIds(['frozen']));
    for (const r of ids.rows) expect(r[FROZEN_KEY]).toBe(frozen.has(r.Id) ? 'true' : 'false');

    const since = new Date(Date.parse(watermark) + 1000);
    const changed = await drain(reads.changedSince(since));
    expect(changed.error).toBeUndefined();
    const expectChanged = selected.filter(
      (id) => Date.parse(sim.userRow(id, ['SystemModstamp']).SystemModstamp) >= since.getTime(),
    );
    expect(changed.rows.map((r) => r.Id).sort()).toEqual(expectChanged);
    expect(expectChanged.length).toBeGreaterThan(0);

    const now = await drain(extractor(sim, { userStatuses: statuses }).users());
    const fullRows = new Map(now.rows.map((r) => [r.Id, r]));
    for (const r of changed.rows) expect(r).toEqual(fullRows.get(r.Id));
    expect((changed.result as UsersResult).maxSystemModstamp).toBe(
      changed.rows.map((r) => r.SystemModstamp).reduce((a, b) => (a > b ? a : b)),
    );

    // by Id: selected and unselected users asked for; only the selected come back, as the full read has them
    const asked = rnd.sample(sim.userIds(), 60);
    const byId = await drain(reads.byIds(asked));
    expect(byId.error).toBeUndefined();
    expect(byId.rows.map((r: Row) => r.Id).sort()).toEqual(asked.filter((id) => fullRows.has(id)).sort());
    for (const r of byId.rows) expect(r).toEqual(fullRows.get(r.Id));
  });

  it('never moves the watermark past the job: an edit made while a long job runs is read next time', async () => {
    // Salesforce reads a big query job in chunks, not as one snapshot: a row the job reads late may
    // carry an edit made after the job started (here: B, stamped an hour later), while a row it read
    // early misses a later edit (A). The watermark is capped at the job's creation (Salesforce's
    // clock), so the next read since watermark - overlap still finds A.
    const rnd = seededRandom('user-reads watermark cap');
    const ex = extractor(sim, { userStatuses: ['active'], pageSize: 70 });
    const [b, a] = rnd.sample(sim.userIds(['active']), 2);
    const later = new Date(Date.now() + 3_600_000).toISOString();
    sim.updateUser(b, { SystemModstamp: later });
    const full = await drain(ex.users());
    expect(full.error).toBeUndefined();
    const watermark = (full.result as UsersResult).maxSystemModstamp!;
    expect(watermark < later).toBe(true);
    sim.updateUser(a, { Title: `A ${rnd.next()}` });
    const reads = await extractor(sim, { userStatuses: ['active'], pageSize: 70 }).userReads!();
    const changed = await drain(reads.changedSince(new Date(Date.parse(watermark) - 60_000)));
    expect(changed.rows.map((r) => r.Id)).toContain(a);
    sim.updateUser(b, { SystemModstamp: new Date().toISOString() });
  });
});
