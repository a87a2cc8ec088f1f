/**
 * Contract: a Bulk query job's creation returns at once and its processing runs in the
 * background, the server answering other calls meanwhile, as Salesforce's does. The simulator's
 * assignment tables (built from every user, once per snapshot) are built by the job's processing
 * in slices, not by the call that creates it: at 300k users that call held the simulator for
 * 1-3 s, and every request of the connector waited (docs/performance-s11-routine.md). Both ways of
 * building give the same rows. Randomised: SIM_JOB_SEED replays.
 */
import { QueryJob } from '../../simulator/bulk-job';
import {
  LoginHistoryObject,
  ProfileObject,
  UserLicenseObject,
  UserLoginObject,
  UserRoleObject,
} from '../../simulator/fields-other';
import { UserObject } from '../../simulator/fields-user';
import { LICENCE_OBJECTS } from '../../simulator/fields-licence';
import { KeyPrefix, makeId, orgIdSpace } from '../../simulator/ids';
import { BUILD_SLICE, buildLicenceOrg } from '../../simulator/licence-tables';
import { buildOrgTables } from '../../simulator/org-tables';
import { mulberry32 } from '../../simulator/prng';
import { Schema } from '../../simulator/schema';
import { compileBulkQuery } from '../../simulator/soql-compile';
import { Store } from '../../simulator/store';

const SEED = Number(process.env.SIM_JOB_SEED ?? Math.floor(Math.random() * 1_000_000));
console.log(`SIM_JOB_SEED=${SEED}`);

const OBJECTS = [
  UserObject,
  LoginHistoryObject,
  UserLoginObject,
  UserRoleObject,
  ProfileObject,
  UserLicenseObject,
  ...LICENCE_OBJECTS,
];

function org(seed: number, users: number) {
  const nowMs = Date.parse('2026-11-01T00:00:00.000Z');
  const apiUserId = makeId(KeyPrefix.User, 999_999_999, orgIdSpace(seed));
  const tables = buildOrgTables(seed, nowMs, apiUserId);
  const lic = buildLicenceOrg(seed, nowMs, apiUserId, tables);
  const store = new Store(
    { seed, nowMs, apiUserId, org: tables },
    { seed, nowMs, count: 10, users },
    tables,
    UserObject,
    new Schema(OBJECTS, new Map()),
    lic,
  );
  return { store, lic };
}

const schema = new Schema(OBJECTS, new Map());
const timing = { pollsBeforeComplete: 1, minProcessingMs: 0 };
const job = (store: Store, soql: string) =>
  new QueryJob(
    'job',
    { operation: 'query', query: soql, columnDelimiter: 'COMMA', lineEnding: 'LF', apiVersion: 62, createdById: 'u' },
    compileBulkQuery(soql, schema, 62),
    store.snapshot(),
    timing,
    null,
  );

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

  it('builds the same rows in slices as at once, whatever the changes (SIM_JOB_SEED)', async () => {
    const rnd = mulberry32(SEED);
    for (let round = 0; round < 3; round++) {
      const users = 1 + Math.floor(rnd() * 2.5 * BUILD_SLICE);
      const seed = 1 + Math.floor(rnd() * 9999);
      const { store, lic } = org(seed, users);
      const ids = store.userIds();
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
      // changes: users deleted, assignments added and removed (each change builds the tables at once)
      for (let i = 0; i < 8; i++) {
        const id = pick(ids);
        const r = rnd();
        try {
          if (r < 0.3) store.deleteUser(id);
          else if (r < 0.55) store.assign('PermissionSetAssignment', id, String(pick(lic.regularSets).Id));
          else if (r < 0.8) store.assign('PermissionSetLicenseAssign', id, String(pick(lic.psLicenses).Id));
          else {
            const object = rnd() < 0.5 ? 'PermissionSetAssignment' : 'PermissionSetLicenseAssign';
            const t = store.snapshot().table(object);
            const row = t.row(Math.floor(rnd() * t.size()));
            if (row) store.unassign(object, String(row.get('Id')));
          }
        } catch {
          // a deleted user, or an assignment the user already holds: no change this time
        }
      }
      const alive = store.userIds()[0];
      for (const object of ['PermissionSetAssignment', 'PermissionSetLicenseAssign']) {
        const soql =
          object === 'PermissionSetAssignment'
            ? `SELECT Id, AssigneeId, PermissionSetId, PermissionSetGroupId, SystemModstamp FROM ${object}`
            : `SELECT Id, AssigneeId, PermissionSetLicenseId, CreatedDate, SystemModstamp FROM ${object}`;
        const sliced = job(store, soql);
        await complete(sliced);
        const fields = soql.slice('SELECT '.length, soql.indexOf(' FROM')).split(', ');
        const rowsOf = (j: QueryJob) => [...j.result.rows(0, Infinity)].map((r) => fields.map((f) => r.get(f)));
        // a fresh snapshot of the same org, its table built at once by a synchronous read
        store.updateUser(alive, { Title: 'again' }); // a change drops the cached snapshot
        const atOnce = store.snapshot().table(object);
        const whole: unknown[][] = [];
        for (let p = 0; p < atOnce.size(); p++) {
          const r = atOnce.row(p);
          if (r) whole.push(fields.map((f) => (f === 'SystemModstamp' ? null : r.get(f))));
        }
        const got = rowsOf(sliced).map((r) => r.map((v, k) => (fields[k] === 'SystemModstamp' ? null : v)));
        expect(got).toEqual(whole);
      }
    }
  });
});
