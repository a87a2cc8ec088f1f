import { z } from 'zod';
import { bool, oneOf, str } from './options';
import { SALESFORCE_OPTIONS, SCHEDULE_OPTIONS } from './schema-salesforce';
import { SERVICE_OPTIONS } from './schema-services';

/**
 * THE config file's schema: every option, its type, range, default, doc line and example, which
 * options are secrets and which role's file each belongs in. The loader (parse.ts) validates
 * with it, docs/configuration-reference.md and config/connector.schema.json are generated from it
 * (reference.ts; `npm run config:docs`). Its parts: schema-salesforce.ts (the connector's file
 * only) and schema-services.ts. Rules between options (a flow's secrets, a schedule's fields) are
 * in parse.ts and salesforce.ts. A default a component also applies on its own is taken from it.
 */
export const CONFIG_SHAPE = {
  role: oneOf(['connector', 'sink'], {
    doc: "which process this file is for; absent: both. Each role's file holds only its own options and secrets",
  }),
  allowInsecureSecretFiles: bool({
    default: false,
    doc: 'accept secret files (and a config file with secrets in it) that the group or others can read',
  }),
  connectorName: str({
    required: true,
    pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
    allowed: '1-100 letters, digits, . _ - (it keys the run state and labels metrics)',
    doc: 'the product\'s "Connector name": keys the run state, labels metrics',
    example: 'acme-prod',
  }),
  connectorServerName: str({
    default: 'Cloud',
    doc: 'the product\'s "Connector server name": informational, this is a cloud connector',
  }),
  ...SALESFORCE_OPTIONS,
  ...SCHEDULE_OPTIONS,
  ...SERVICE_OPTIONS,
};

export const configSchema = z.strictObject(CONFIG_SHAPE);

/** The options of each section, as the reference groups them. */
export const SECTIONS: { title: string; keys: readonly string[] }[] = [
  {
    title: 'General',
    keys: [
      'role',
      'allowInsecureSecretFiles',
      'connectorName',
      'connectorServerName',
      'shutdownGraceSeconds',
      'indexCheckpointDir',
    ],
  },
  { title: 'Salesforce', keys: Object.keys(SALESFORCE_OPTIONS) },
  { title: 'Schedule', keys: [...Object.keys(SCHEDULE_OPTIONS), 'runRetries'] },
  {
    title: 'Kafka, registry, topics',
    keys: ['kafka', 'registry', 'topics', 'topicSettings', 'publisher', 'deletionGuard'],
  },
  { title: 'Sink and metrics', keys: ['database', 'sink', 'metrics'] },
];
