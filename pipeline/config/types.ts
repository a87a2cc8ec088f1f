import type { ConnectorSettings } from '../connector';
import type { Schedule } from '../schedule/spec';

/**
 * One connector's configuration, validated and with every default filled in: what a run takes
 * (ConnectorSettings) plus the schedule, the sink and the service options. Built only by
 * parseConnectorConfig (validate.ts); convert.ts turns it into what the run and the sink take.
 */
export interface ConnectorConfig extends ConnectorSettings {
  /** Where it was read from (file path), for messages. */
  source: string;
  /** The product's "Connector server name" (Cloud). Informational: this connector is a cloud connector. */
  connectorServerName: string;
  schedule: Schedule;
  sink: {
    /** Absent: an embedded PostgreSQL (sinks/postgres/embedded.ts). */
    databaseUrl?: string;
    embeddedDataDir?: string;
    groupId?: string;
    tables: { schema?: string; users?: string; logins?: string };
    /** A removed user's login events: deleted with the user (default) or kept. */
    onUserRemoved: 'delete-logins' | 'keep';
    /** The sink's tunings that configuration may set (sinks/postgres/sink.ts SinkTuning). */
    tuning: { synchronousCommit: boolean; statementTimeoutMs: number; breakerFailures: number; stallAfterMs: number };
  };
  /** The Prometheus and health endpoint; port null = off, 0 = any free port. */
  metrics: { host: string; port: number | null };
  /** On SIGTERM a run in progress may finish within this many ms, then it is interrupted. */
  shutdownGraceMs: number;
  /** Every secret value the config holds, for scrubbing logs and output. */
  secrets: string[];
}
