import { QueryJob } from '../../simulator/bulk-job';
import { UserObject } from '../../simulator/fields-user';
import { allObjects } from '../../simulator';
import { KeyPrefix, makeId, orgIdSpace } from '../../simulator/ids';
import { buildLicenceOrg } from '../../simulator/licence-tables';
import { buildOrgTables } from '../../simulator/org-tables';
import { Schema } from '../../simulator/schema';
import { compileBulkQuery } from '../../simulator/soql-compile';
import { Store } from '../../simulator/store';

/**
 * A simulated org's Store without the HTTP server, and query jobs over its snapshots: for tests of
 * how a job is processed (in slices, over reused tables) at the level of the simulator's parts.
 */
export const schema = new Schema(allObjects(), new Map());

const timing = { pollsBeforeComplete: 1, minProcessingMs: 0 };

/** A simulated org of `users` generated users, with its own fixed tables (roles may be renamed). */
export function org(seed: number, users: number) {
  const nowMs = Date.parse('2026-11-01T00:00:00.000Z');
  const apiUserId = makeId(KeyPrefix.User, 999_999_999, orgIdSpace(seed));
  const tables = buildOrgTables(seed, nowMs, apiUserId);
  const lic = buildLicenceOrg(seed, nowMs, apiUserId, tables);
  const store = new Store(
    { seed, nowMs, apiUserId, org: tables },
    { seed, nowMs, count: 10, users },
    tables,
    UserObject,
    schema,
    lic,
  );
  return { store, lic, tables };
}

/** A query job over the store's snapshot (`fresh`: its licence tables built anew, not reused). */
export function job(store: Store, soql: string, fresh = false): QueryJob {
  return new QueryJob(
    'job',
    { operation: 'query', query: soql, columnDelimiter: 'COMMA', lineEnding: 'LF', apiVersion: 62, createdById: 'u' },
    compileBulkQuery(soql, schema, 62),
    fresh ? store.freshSnapshot() : store.snapshot(),
    timing,
    null,
  );
}
