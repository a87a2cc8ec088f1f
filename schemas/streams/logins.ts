import { declareStream } from './types';

/** LoginHistory: append-only login events, read incrementally from the committed watermark. */
export const LOGINS = declareStream({
  name: 'logins',
  object: 'LoginHistory',
  api: 'bulk',
  mode: { kind: 'incremental', watermarkField: 'LoginTime' },
  mapping: 'mapping/login-history.csv',
  valueSchema: 'avro/login-event-value.avsc',
  topic: { defaultName: 'salesforce.neurons.login-history', compacted: false, retentionDays: 30 },
  key: 'Id',
  sink: { table: 'neurons_login_events', write: 'append', indexes: [['userId', 'loginTime']] },
});
