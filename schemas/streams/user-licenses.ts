import { declareStream } from './types';

/**
 * UserLicense: per licence type, how many the org bought (TotalLicenses) and how many active
 * users hold (UsedLicenses). A dozen rows or so: read with the REST query API, as Salesforce
 * advises for fewer than 2,000 records (docs/streams.md). A snapshot: a licence type gone from
 * the org is tombstoned.
 */
export const USER_LICENSES = declareStream({
  name: 'user-licenses',
  object: 'UserLicense',
  api: 'rest',
  mode: { kind: 'snapshot' },
  mapping: 'mapping/user-license.csv',
  valueSchema: 'avro/user-license-value.avsc',
  topic: { defaultName: 'salesforce.neurons.user-licenses', compacted: true },
  key: 'Id',
  sink: { table: 'neurons_user_licenses', write: 'upsert', indexes: [['licenseDefinitionKey']] },
});
