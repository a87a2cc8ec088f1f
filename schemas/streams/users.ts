import { declareStream } from './types';

/**
 * Salesforce users: a snapshot with the removal rule. The run adds what the declaration cannot
 * say (pipeline/sync.ts): the user status filter, the UserLogin flags and the device of the
 * latest login.
 */
export const USERS = declareStream({
  name: 'users',
  object: 'User',
  api: 'bulk',
  mode: { kind: 'snapshot' },
  mapping: 'mapping/user.csv',
  valueSchema: 'avro/user-value.avsc',
  topic: { defaultName: 'salesforce.neurons.users', compacted: true },
  key: 'Id',
  sink: { table: 'neurons_users', write: 'upsert', indexes: [['email'], ['username'], ['managerId']] },
});
