import type { ConnectorSettings } from '../connector';
import type { PostgresSinkConfig } from '../../sinks/postgres/config';
import { ConfigError } from './issues';
import type { LoadedConfig } from './types';

/**
 * What startConnector takes: the validated config minus the schedule, sink and service options.
 * A config loaded for the sink has no Salesforce options: running the connector from it is a
 * config error naming the role.
 */
export function toConnectorSettings(c: LoadedConfig): ConnectorSettings {
  if (!c.salesforce) {
    throw new ConfigError(c.source, [
      {
        field: 'role',
        problem: `is ${c.role}: this file has no Salesforce options, and the connector needs them`,
        allowed: "the connector's own file (role: connector), or a file without role that serves both",
      },
    ]);
  }
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
export function toSinkConfig(c: LoadedConfig): PostgresSinkConfig {
  // The connector's file has no database: without this the sink would quietly start an embedded one.
  if (c.role === 'connector') {
    throw new ConfigError(c.source, [
      {
        field: 'role',
        problem: 'is connector: this file has no database options, and the sink needs them',
        allowed: "the sink's own file (role: sink), or a file without role that serves both",
      },
    ]);
  }
  return {
    kafka: { ...c.kafka, clientId: `${c.kafka.clientId}-sink` },
    registry: c.registry,
    databaseUrl: c.sink.databaseUrl,
    embedded: c.sink.embeddedDataDir ? { dataDir: c.sink.embeddedDataDir } : undefined,
    topics: {
      users: c.topics.users,
      logins: c.topics.logins,
      deadLetter: c.topics.deadLetter,
      streams: c.topics.streams,
    },
    tables: c.sink.tables,
    groupId: c.sink.groupId,
    onUserRemoved: c.sink.onUserRemoved,
    tuning: c.sink.tuning,
  };
}
