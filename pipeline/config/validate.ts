import { parseExtractorConfig } from '../../connectors/salesforce/config';
import { ConfigError, Issues } from './issues';
import { Reader } from './reader';
import { insecureFileProblem, type SecretSources } from './sources';
import { readRole } from './roles';
import type { ConfigRole, ConnectorConfig, LoadedConfig } from './types';
import { SALESFORCE_KEYS, extractorIssue, readSalesforce } from './validate-salesforce';
import { readRunRetries, readSchedule } from './validate-schedule';
import { readGuard, readKafka, readPublisher, readRegistry, readSink, readTopicSettings, readTopics } from './validate-services';

/**
 * What the loading process is. `connector` (sync, start): the Salesforce options are read, the
 * database is not (its URL never enters the process). `sink` (sink, replay): the database is
 * read, no Salesforce option is (their variables and files need not exist). `any` (check,
 * status): whatever the file's own `role` says. Absent: both, as one file always served both.
 */
export interface ParseOptions {
  role?: ConfigRole | 'any';
}

/**
 * Validates a parsed config file (one connector) and fills in the defaults. Reads every option,
 * so all problems are found in one pass; throws a ConfigError listing each (field, masked value,
 * what is allowed) when there is any. Secrets are resolved from the environment or files
 * (sources.ts) and never appear in a message. Pure apart from `sources`.
 */
export function parseConnectorConfig(
  raw: unknown, sources: SecretSources, source?: string, opts?: { role?: 'connector' },
): ConnectorConfig;
export function parseConnectorConfig(
  raw: unknown, sources: SecretSources, source: string, opts: ParseOptions,
): LoadedConfig;
export function parseConnectorConfig(
  raw: unknown, sources: SecretSources, source = 'config', opts: ParseOptions = {},
): LoadedConfig {
  const issues = new Issues();
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    issues.add('(file)', 'must be a mapping of options (YAML or JSON object)', { value: raw });
    throw new ConfigError(source, issues.list);
  }
  const secrets: string[] = [];
  const r = new Reader(raw as Record<string, unknown>, '', issues, sources, secrets);

  const { role, readsSalesforce, readsDatabase } = readRole(r, opts.role, source);
  r.policy.allowInsecureSecretFiles = r.boolean('allowInsecureSecretFiles', false);

  const connectorName = r.string('connectorName', { required: true, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, allowed: '1-100 letters, digits, . _ - (it keys the run state and labels metrics)' });
  const connectorServerName = r.string('connectorServerName', { default: 'Cloud' }) ?? 'Cloud';
  let salesforce: LoadedConfig['salesforce'];
  if (readsSalesforce) salesforce = readSalesforce(r);
  else r.allow(...SALESFORCE_KEYS);
  const schedule = readSchedule(r);
  const runRetries = readRunRetries(r);
  const kafka = readKafka(r.object('kafka'), connectorName);
  const registry = readRegistry(r.object('registry'));
  const topics = readTopics(r.object('topics'));
  const topicSettings = readTopicSettings(r.object('topicSettings'));
  const guard = readGuard(r.object('deletionGuard'));
  const publisher = readPublisher(r.object('publisher'));
  if (!readsDatabase) r.allow('database');
  const sink = readSink(readsDatabase ? r.object('database') : null, r.object('sink'));
  const m = r.object('metrics');
  const metrics = { host: m.string('host', { default: '127.0.0.1' }) ?? '127.0.0.1', port: m.number('port', { min: 0, max: 65_535, integer: true }) ?? null };
  m.finish();
  // A file holding secrets itself is a secret file: the same rule as for the *File options.
  const literal = r.policy.literalSecrets;
  const exposed = literal.length > 0 ? insecureFileProblem(source, sources, r.policy.allowInsecureSecretFiles) : null;
  if (exposed) {
    issues.add('(file)', `holds ${literal.join(', ')} written in it and ${exposed.problem}`, {
      allowed: `${exposed.allowed}; or move them to …Env / …File options`,
    });
  }
  const grace = r.number('shutdownGraceSeconds', { default: 30, min: 0, max: 3600 }) ?? 30;
  r.finish();

  const sf = salesforce;
  if (sf && issues.list.length === 0) {
    const problem = extractorIssue(() => parseExtractorConfig(sf));
    if (problem) issues.add('salesforce', problem);
  }
  if (readsSalesforce && !salesforce && issues.list.length === 0) {
    issues.add('salesforceUrl', 'is required', { allowed: 'the Salesforce options (docs/configuration.md)' });
  }
  if (issues.list.length > 0 || !connectorName || !schedule || !kafka || !registry) {
    throw new ConfigError(source, issues.list);
  }
  return {
    role, source, connectorName, connectorServerName, salesforce, schedule, runRetries, kafka, registry, topics,
    topicSettings, guard, publisher, sink, metrics,
    shutdownGraceMs: grace * 1000,
    secrets: [...new Set(secrets.filter((s) => s.length >= 4))],
  };
}
