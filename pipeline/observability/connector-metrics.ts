import type { RunSummary, SyncProgress } from '../sync';
import type { SinkStats } from '../../sinks/engine/engine';
import { MetricsRegistry } from './registry';

/**
 * The connector's metrics (names prefixed sf_neurons_), fed from a run's progress and summary
 * and from the sink's stats. Every series carries the connector name as a label.
 *
 * Counters over the process's lifetime: records extracted (object), published (kind),
 * tombstoned, dead-lettered, runs (result), sink rows written (table, operation).
 * Gauges: last run duration and result, Salesforce API usage, sink lag, run in progress.
 * Histograms: run duration (result), sink batch latency. prom-client adds the process metrics
 * (process_resident_memory_bytes, nodejs_heap_size_used_bytes, nodejs_eventloop_lag_seconds,
 * nodejs_gc_duration_seconds, …).
 */
export interface ConnectorMetrics {
  readonly registry: MetricsRegistry;
  /** A run's live counts (SyncDeps.onProgress): counters move during the run. */
  progress(connector: string, p: SyncProgress): void;
  /** A finished run. */
  runFinished(connector: string, s: RunSummary): void;
  runStarted(connector: string): void;
  /** The sink's cumulative stats. */
  sink(connector: string, stats: SinkStats): void;
  sinkLag(connector: string, lag: number): void;
  /** One sink batch written and committed: how long it took from fetch to commit, in seconds. */
  sinkBatch(connector: string, seconds: number): void;
}

export function createConnectorMetrics(): ConnectorMetrics {
  const r = new MetricsRegistry();
  const extracted = r.counter('sf_neurons_records_extracted_total', 'Records read from Salesforce, by object.', [
    'connector',
    'object',
  ]);
  const published = r.counter(
    'sf_neurons_records_published_total',
    'Records published to Kafka, by kind (user, login_event).',
    ['connector', 'kind'],
  );
  const tombstoned = r.counter('sf_neurons_records_tombstoned_total', 'Users deleted (tombstones published).', [
    'connector',
  ]);
  const dead = r.counter(
    'sf_neurons_records_dead_lettered_total',
    'Records sent to the dead-letter topic, by stage (source, sink).',
    ['connector', 'stage'],
  );
  const runs = r.counter('sf_neurons_runs_total', 'Finished runs, by result (succeeded, failed).', [
    'connector',
    'result',
  ]);
  const failures = r.counter(
    'sf_neurons_run_failures_total',
    'Failed runs, by error code (DELETION_GUARD, SALESFORCE_API_BUDGET, …).',
    ['connector', 'code'],
  );
  const running = r.gauge('sf_neurons_run_in_progress', '1 while a run is in progress.', ['connector']);
  const duration = r.gauge('sf_neurons_last_run_duration_seconds', 'Duration of the last finished run.', ['connector']);
  const lastResult = r.gauge('sf_neurons_last_run_success', '1 if the last run succeeded, 0 if it failed.', [
    'connector',
  ]);
  const lastEnd = r.gauge('sf_neurons_last_run_end_timestamp_seconds', 'When the last run ended (Unix time).', [
    'connector',
  ]);
  const apiUsed = r.gauge(
    'sf_neurons_salesforce_api_requests_used',
    "The org's daily API requests used, as Salesforce last reported.",
    ['connector'],
  );
  const apiMax = r.gauge('sf_neurons_salesforce_api_requests_max', "The org's daily API request limit.", ['connector']);
  const apiCalls = r.counter('sf_neurons_salesforce_api_calls_total', 'API calls this connector made.', ['connector']);
  const rows = r.counter(
    'sf_neurons_sink_rows_written_total',
    'Rows the sink wrote to PostgreSQL, by operation (upsert, insert, delete).',
    ['connector', 'operation'],
  );
  const sinkRecords = r.counter('sf_neurons_sink_records_total', 'Records the sink consumed.', ['connector']);
  const runDuration = r.histogram(
    'sf_neurons_run_duration_seconds',
    'Duration of finished runs, by result.',
    ['connector', 'result'],
    [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
  );
  const batchLatency = r.histogram(
    'sf_neurons_sink_batch_seconds',
    'Sink batches: time from fetch to database commit.',
    ['connector'],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  const lag = r.gauge(
    'sf_neurons_sink_lag_records',
    'Records in the source topics not yet committed by the sink group.',
    ['connector'],
  );

  // A run reports absolute counts; counters add the difference since its last report.
  const seen = new Map<string, SyncProgress>();
  const add = (m: typeof extracted, labels: Record<string, string>, now: number, before: number) => {
    if (now > before) m.inc(labels, now - before);
  };
  const sinkSeen = new Map<string, SinkStats>();

  return {
    registry: r,
    runStarted(connector) {
      running.set({ connector }, 1);
      seen.delete(connector);
    },
    progress(connector, p) {
      const b =
        seen.get(connector) ??
        ({
          usersExtracted: 0,
          usersPublished: 0,
          usersTombstoned: 0,
          loginEventsPublished: 0,
          loginEventsRead: 0,
          deadLettered: 0,
        } as SyncProgress);
      add(extracted, { connector, object: 'User' }, p.usersExtracted, b.usersExtracted);
      add(extracted, { connector, object: 'LoginHistory' }, p.loginEventsRead, b.loginEventsRead);
      add(published, { connector, kind: 'user' }, p.usersPublished, b.usersPublished);
      add(published, { connector, kind: 'login_event' }, p.loginEventsPublished, b.loginEventsPublished);
      add(tombstoned, { connector }, p.usersTombstoned, b.usersTombstoned);
      add(dead, { connector, stage: 'source' }, p.deadLettered, b.deadLettered);
      seen.set(connector, p);
    },
    runFinished(connector, s) {
      running.set({ connector }, 0);
      runs.inc({ connector, result: s.status });
      if (s.status === 'failed') failures.inc({ connector, code: s.error?.code ?? 'UNKNOWN' });
      duration.set({ connector }, s.durationMs / 1000);
      runDuration.observe({ connector, result: s.status }, s.durationMs / 1000);
      lastResult.set({ connector }, s.status === 'succeeded' ? 1 : 0);
      lastEnd.set({ connector }, Math.round(Date.parse(s.endedAt) / 1000));
      if (s.apiUsage) {
        apiUsed.set({ connector }, s.apiUsage.used);
        apiMax.set({ connector }, s.apiUsage.max);
      }
      apiCalls.inc({ connector }, s.apiCalls);
    },
    sink(connector, stats) {
      const b = sinkSeen.get(connector) ?? {
        batches: 0,
        records: 0,
        upserted: 0,
        inserted: 0,
        deleted: 0,
        deadLettered: 0,
      };
      add(rows, { connector, operation: 'upsert' }, stats.upserted, b.upserted);
      add(rows, { connector, operation: 'insert' }, stats.inserted, b.inserted);
      add(rows, { connector, operation: 'delete' }, stats.deleted, b.deleted);
      add(sinkRecords, { connector }, stats.records, b.records);
      add(dead, { connector, stage: 'sink' }, stats.deadLettered, b.deadLettered);
      sinkSeen.set(connector, stats);
    },
    sinkLag(connector, value) {
      lag.set({ connector }, value);
    },
    sinkBatch(connector, seconds) {
      batchLatency.observe({ connector }, seconds);
    },
  };
}
