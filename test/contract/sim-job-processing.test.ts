/**
 * Contract: a Bulk query job's creation returns at once and its processing runs in the
 * background, the server answering other calls meanwhile, as Salesforce's does. The simulator's
 * assignment tables (built from every user, once per snapshot) are built by the job's processing
 * in slices, not by the call that creates it: at 300k users that call held the simulator for
 * 1-3 s, and every request of the connector waited (docs/performance-s11-routine.md). Both ways of
 * building give the same rows, and so do the tables a later snapshot reuses while nothing they are
 * built from changed (a Title change: the bench's routine changes). Randomised: SIM_JOB_SEED replays.
 */
import type { QueryJob } from '../../simulator/bulk-job';
import { BUILD_SLICE } from '../../simulator/licence-tables';
import { mulberry32 } from '../../simulator/prng';
import type { Table } from '../../simulator/table';
import { job, org } from './sim-store';

const SEED = Number(process.env.SIM_JOB_SEED ?? Math.floor(Math.random() * 1_000_000));
console.log(`SIM_JOB_SEED=${SEED}`);

/** Polls until the job is complete; counts the event-loop turns it took. */
async function complete(j: QueryJob): Promise<number> {
  let turns = 0;
  for (;;) {
    j.poll();
    if (j.finished) return turns;
    await new Promise((r) => setImmediate(r));
    turns++;
  }
}

describe('a query job over an assignment table', () => {
  for (const object of ['PermissionSetAssignment', 'PermissionSetLicenseAssign']) {
    it(`${object}: its creation builds nothing; its processing builds the table in slices`, async () => {
      const users = 3 * BUILD_SLICE + 17;
      const { store } = org(1 + (SEED % 9999), users);
      const data = store.snapshot();
      const j = job(store, `SELECT Id FROM ${object}`);
      // the call that creates the job (the POST) has read nothing of the table (its rows not built)
      expect((data.table(object) as unknown as { built: unknown }).built).toBeNull();
      // its processing yields at least once per slice of users (the server answers meanwhile)
      expect(await complete(j)).toBeGreaterThanOrEqual(3);
      expect(j.result.count).toBeGreaterThan(users / 4);
    });
  }

  it('a change of a field the licence tables are not built from reuses them: the next job builds nothing', async () => {
    const { store } = org(1 + (SEED % 9999), 2 * BUILD_SLICE);
    await complete(job(store, 'SELECT Id FROM PermissionSetAssignment'));
    const [id] = store.userIds();
    store.updateUser(id, { Title: 'a routine change' });
    const data = store.snapshot();
    job(store, 'SELECT Id FROM PermissionSetAssignment');
    expect((data.table('PermissionSetAssignment') as unknown as { built: unknown }).built).not.toBeNull();
    // a new profile moves the user's own-set assignment: built anew
    store.updateUser(id, { ProfileId: String(store.snapshot().users.row(1)!.get('ProfileId')) });
    expect((store.snapshot().table('PermissionSetAssignment') as unknown as { built: unknown }).built).toBeNull();
  });

  it('builds the same rows in slices, at once, reused or anew, whatever the changes (SIM_JOB_SEED)', async () => {
    const rnd = mulberry32(SEED);
    const FIELDS: Record<string, string[]> = {
      PermissionSetAssignment: ['Id', 'AssigneeId', 'PermissionSetId', 'PermissionSetGroupId', 'SystemModstamp'],
      PermissionSetLicenseAssign: ['Id', 'AssigneeId', 'PermissionSetLicenseId', 'CreatedDate', 'SystemModstamp'],
      UserLicense: ['Id', 'UsedLicenses'],
      PermissionSetLicense: ['Id', 'UsedLicenses', 'TotalLicenses'],
    };
    for (let round = 0; round < 2; round++) {
      const users = 1 + Math.floor(rnd() * 2 * BUILD_SLICE);
      const seed = 1 + Math.floor(rnd() * 9999);
      const { store, lic } = org(seed, users);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
      const profiles = [
        ...new Set(
          Array.from({ length: 50 }, (_, i) =>
            store
              .snapshot()
              .users.row(i % users)!
              .get('ProfileId'),
          ),
        ),
      ];
      // changes of every kind, the tables read between some of them (a job built in slices, or a read at once)
      for (let i = 0; i < 12; i++) {
        const ids = store.userIds();
        const id = pick(ids);
        const r = rnd();
        try {
          if (r < 0.3) store.updateUser(id, { Title: `t${i}` });
          else if (r < 0.4) store.updateUser(id, { ProfileId: String(pick(profiles)) });
          else if (r < 0.5) store.deleteUser(id);
          else if (r < 0.55) store.addUser({ ProfileId: String(pick(profiles)) });
          else if (r < 0.6) store.setUserState(id, pick(['active', 'inactive', 'frozen'] as const));
          else if (r < 0.7) store.assign('PermissionSetAssignment', id, String(pick(lic.regularSets).Id));
          else if (r < 0.8) store.assign('PermissionSetLicenseAssign', id, String(pick(lic.psLicenses).Id));
          else if (r < 0.85)
            store.setLicenseTotal(String(pick(lic.psLicenses).DeveloperName), 1 + Math.floor(rnd() * 500));
          else {
            const object = rnd() < 0.5 ? 'PermissionSetAssignment' : 'PermissionSetLicenseAssign';
            const t = store.snapshot().table(object);
            const row = t.row(Math.floor(rnd() * t.size()));
            if (row) store.unassign(object, String(row.get('Id')));
          }
        } catch {
          // a deleted user, or an assignment the user already holds: no change this time
        }
        if (rnd() < 0.3) await complete(job(store, `SELECT Id FROM ${pick(Object.keys(FIELDS).slice(0, 2))}`));
      }
      const whole = (t: Table, fields: string[]) => {
        const out: unknown[][] = [];
        for (let p = 0; p < t.size(); p++) {
          const row = t.row(p);
          if (row) out.push(fields.map((f) => row.get(f)));
        }
        return out;
      };
      for (const [object, fields] of Object.entries(FIELDS)) {
        // the oracle: this state's tables built anew, at once
        const expected = whole(store.freshSnapshot().table(object), fields);
        if (object.endsWith('Assign') || object.endsWith('Assignment')) {
          const sliced = job(store, `SELECT ${fields.join(', ')} FROM ${object}`);
          await complete(sliced);
          expect([...sliced.result.rows(0, Infinity)].map((row) => fields.map((f) => row.get(f)))).toEqual(expected);
        }
        expect(whole(store.snapshot().table(object), fields)).toEqual(expected);
      }
    }
  });
});
