import { declareStream } from './types';

/**
 * PermissionSetLicenseAssign: who holds which permission set licence. A snapshot with
 * tombstones: a licence taken back from a user is deleted downstream after the next complete run.
 * Can be large (users × licences): Bulk API 2.0.
 */
export const PERMISSION_SET_LICENSE_ASSIGNMENTS = declareStream({
  name: 'permission-set-license-assignments',
  object: 'PermissionSetLicenseAssign',
  api: 'bulk',
  // routine runs read only the changed rows (and an Id-only list for removals): docs/streams.md
  mode: { kind: 'snapshot', incremental: { watermarkField: 'SystemModstamp' } },
  mapping: 'mapping/permission-set-license-assign.csv',
  valueSchema: 'avro/permission-set-license-assign-value.avsc',
  topic: { defaultName: 'salesforce.neurons.permission-set-license-assignments', compacted: true },
  key: 'Id',
  sink: {
    table: 'neurons_permission_set_license_assignments',
    write: 'upsert',
    indexes: [['userId'], ['permissionSetLicenseId']],
    views: ['streams/views/licence-inactive-holders.sql'],
  },
  permission: '"View Setup and Configuration" or "Assign Permission Sets"',
});
