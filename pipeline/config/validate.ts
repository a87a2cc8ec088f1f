import { parseExtractorConfig } from '../../connectors/salesforce/config';
import { ConfigError, Issues } from './issues';
import { Reader } from './reader';
import type { SecretSources } from './sources';
import type { ConnectorConfig } from './types';
import { extractorIssue, readSalesforce } from './validate-salesforce';
import { readRunRetries, readSchedule } from './validate-schedule';
import { readGuard, readKafka, readPublisher, readRegistry, readSink, readTopicSettings, readTopics } from './validate-services';

/**
 * Validates a parsed config file (one connector) and fills in the defaults. Reads every option,
 * so all problems are found in one pass; throws a ConfigError listing each (field, masked value,
 * what is allowed) when there is any. Secrets are resolved from the environment or files
 * (sources.ts) and never appear in a message. Pure apart from `sources`.
 */
export function parseConnectorConfig(raw: unknown, sources: SecretSources, source = 'config'): ConnectorConfig {
  const issues = new Issues();
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    issues.add('(file)', 'must be a mapping of options (YAML or JSON object)', { value: raw });
    throw new ConfigError(source, issues.list);
  }
  const secrets: string[] = [];
  const r = new Reader(raw as Record<string, unknown>, '', issues, sources, secrets);

  const connectorName = r.string('connectorName', { required: true, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, allowed: '1-100 letters, digits, . _ - (it keys the run state and labels metrics)' });
  const connectorServerName = r.string('connectorServerName', { default: 'Cloud' }) ?? 'Cloud';
  const salesforce = readSalesforce(r);
  const schedule = readSchedule(r);
  const runRetries = readRunRetries(r);
  const kafka = readKafka(r.object('kafka'), connectorName);
  const registry = readRegistry(r.object('registry'));
  const topics = readTopics(r.object('topics'));
  const topicSettings = readTopicSettings(r.object('topicSettings'));
  const guard = readGuard(r.object('deletionGuard'));
  const publisher = readPublisher(r.object('publisher'));
  const sink = readSink(r.object('database'), r.object('sink'));
  const m = r.object('metrics');
  const metrics = { host: m.string('host', { default: '127.0.0.1' }) ?? '127.0.0.1', port: m.number('port', { min: 0, max: 65_535, integer: true }) ?? null };
  m.finish();
  const grace = r.number('shutdownGraceSeconds', { default: 30, min: 0, max: 3600 }) ?? 30;
  r.finish();

  if (salesforce && issues.list.length === 0) {
    const problem = extractorIssue(() => parseExtractorConfig(salesforce));
    if (problem) issues.add('salesforce', problem);
  }
  if (issues.list.length > 0 || !connectorName || !salesforce || !schedule || !kafka || !registry) throw new ConfigError(source, issues.list);
  return {
    source, connectorName, connectorServerName, salesforce, schedule, runRetries, kafka, registry, topics, topicSettings, guard, publisher, sink, metrics,
    shutdownGraceMs: grace * 1000,
    secrets: [...new Set(secrets.filter((s) => s.length >= 4))],
  };
}
