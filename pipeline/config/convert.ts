import type { ConnectorSettings } from '../connector';
import type { PostgresSinkConfig } from '../../sinks/postgres/config';
import type { ConnectorConfig } from './types';

/** What startConnector takes: the validated config minus the schedule, sink and service options. */
export function toConnectorSettings(c: ConnectorConfig): ConnectorSettings {
  return {
    connectorName: c.connectorName,
    salesforce: c.salesforce,
    kafka: c.kafka,
    registry: c.registry,
    topics: c.topics,
    topicSettings: c.topicSettings,
    guard: c.guard,
    publisher: c.publisher,
  };
}

/**
 * What the sink's fromConfig takes: the same Kafka, registry and topics as the connector, the
 * database URL (absent: embedded PostgreSQL), its own client id, group and tables.
 */
export function toSinkConfig(c: ConnectorConfig): PostgresSinkConfig {
  return {
    kafka: { ...c.kafka, clientId: `${c.kafka.clientId}-sink` },
    registry: c.registry,
    databaseUrl: c.sink.databaseUrl,
    embedded: c.sink.embeddedDataDir ? { dataDir: c.sink.embeddedDataDir } : undefined,
    topics: { users: c.topics.users, logins: c.topics.logins, deadLetter: c.topics.deadLetter },
    tables: c.sink.tables,
    groupId: c.sink.groupId,
    onUserRemoved: c.sink.onUserRemoved,
    tuning: c.sink.tuning,
  };
}
