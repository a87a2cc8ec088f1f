import type { ExtractorOptions } from '../../connectors/salesforce/config';
import type { ConnectorSettings } from '../connector';
import type { RetryPolicy } from '../schedule/retry';
import type { Schedule } from '../schedule/spec';
import type { SinkTuning } from '../../sinks/postgres/sink';

/**
 * Which process a config file is for. `connector` (sync, start) holds the Salesforce secrets and
 * never the database URL; `sink` (sink, replay) holds the database URL and no Salesforce option.
 * A file without `role` serves both, as before; each process still reads only its own secrets.
 */
export type ConfigRole = 'connector' | 'sink';
export const CONFIG_ROLES: readonly ConfigRole[] = ['connector', 'sink'];

/**
 * One connector's configuration as a process loaded it, validated and with every default
 * filled in. Built only by parseConnectorConfig (parse.ts, against schema.ts); convert.ts turns it into what the
 * run and the sink take. `salesforce` is absent when it was loaded for the sink.
 */
export interface LoadedConfig extends Omit<ConnectorSettings, 'salesforce'> {
  /** The file's `role`, or both when it has none. */
  role: ConfigRole | 'both';
  salesforce?: ConnectorSettings['salesforce'];
  /** Where it was read from (file path), for messages. */
  source: string;
  /** The product's "Connector server name" (Cloud). Informational: this connector is a cloud connector. */
  connectorServerName: string;
  schedule: Schedule;
  /** Retries of a failed scheduled run within its slot (runRetries). */
  runRetries: RetryPolicy;
  sink: {
    /** Absent: an embedded PostgreSQL (sinks/postgres/embedded.ts); never read by the connector. */
    databaseUrl?: string;
    embeddedDataDir?: string;
    groupId?: string;
    tables: { schema?: string; users?: string; logins?: string };
    /** A removed user's login events: deleted with the user (default) or kept. */
    onUserRemoved: 'delete-logins' | 'keep';
    /** The sink's tunings that configuration may set (sinks/postgres/sink.ts SinkTuning). */
    tuning: Pick<
      SinkTuning,
      | 'synchronousCommit'
      | 'statementTimeoutMs'
      | 'breakerFailures'
      | 'stallAfterMs'
      | 'fetchMinBytes'
      | 'fetchMaxWaitMs'
      | 'liveLoadIdleMs'
      | 'liveLoadMaxMs'
    >;
  };
  /** The Prometheus and health endpoint; port null = off, 0 = any free port. */
  metrics: { host: string; port: number | null };
  /** On SIGTERM a run in progress may finish within this many ms, then it is interrupted. */
  shutdownGraceMs: number;
  /** Every secret value this process resolved from the config, for scrubbing logs and output. */
  secrets: string[];
}

/** A config loaded for the connector (or for both roles): the Salesforce options are there. */
export interface ConnectorConfig extends LoadedConfig {
  salesforce: ExtractorOptions;
}
