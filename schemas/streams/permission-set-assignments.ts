import { declareStream } from './types';

/**
 * PermissionSetAssignment: who holds which permission set, directly or through a permission set
 * group (every user also holds the one their profile owns). A snapshot with tombstones; large in
 * big orgs: Bulk API 2.0.
 */
export const PERMISSION_SET_ASSIGNMENTS = declareStream({
  name: 'permission-set-assignments',
  object: 'PermissionSetAssignment',
  api: 'bulk',
  // routine runs read only the changed rows (and an Id-only list for removals): docs/streams.md
  mode: { kind: 'snapshot', incremental: { watermarkField: 'SystemModstamp' } },
  mapping: 'mapping/permission-set-assignment.csv',
  valueSchema: 'avro/permission-set-assignment-value.avsc',
  topic: { defaultName: 'salesforce.neurons.permission-set-assignments', compacted: true },
  key: 'Id',
  sink: { table: 'neurons_permission_set_assignments', write: 'upsert', indexes: [['userId'], ['permissionSetId']] },
  permission: '"View Setup and Configuration", "Assign Permission Sets" or "Manage Users"',
});
