import { createConnectorMetrics } from '../../../pipeline/observability';
import type { RunSummary } from '../../../pipeline/sync';

const summary = (status: RunSummary['status'], durationMs: number): RunSummary => ({
  runId: 'r',
  connectorName: 'acme',
  status,
  dryRun: false,
  startedAt: '2026-01-01T00:00:00Z',
  endedAt: '2026-01-01T00:01:00Z',
  durationMs,
  usersExtracted: 10,
  usersPublished: 3,
  usersUnchanged: 7,
  usersTombstoned: 1,
  usersToDelete: 1,
  loginEventsPublished: 5,
  loginDuplicatesDropped: 0,
  deadLettered: 0,
  recordsPerSecond: 1,
  apiUsage: { used: 12, max: 100 },
  apiCalls: 4,
  loginHistoryWatermark: null,
});

describe('connector metrics', () => {
  it('exposes process metrics, run-duration and sink-batch histograms and run gauges in Prometheus text', async () => {
    const m = createConnectorMetrics();
    m.runStarted('acme');
    m.runFinished('acme', summary('succeeded', 42_000));
    m.runFinished('acme', summary('failed', 500));
    m.sinkBatch('acme', 0.2);
    const page = await m.registry.render();
    for (const name of [
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(page).toContain(`# TYPE ${name}`);
    }
    expect(page).toContain('sf_neurons_run_duration_seconds_bucket{le="60",connector="acme",result="succeeded"} 1');
    expect(page).toContain('sf_neurons_run_duration_seconds_bucket{le="30",connector="acme",result="succeeded"} 0');
    expect(page).toContain('sf_neurons_run_duration_seconds_count{connector="acme",result="failed"} 1');
    expect(page).toContain('sf_neurons_sink_batch_seconds_bucket{le="0.25",connector="acme"} 1');
    expect(page).toContain('sf_neurons_runs_total{connector="acme",result="failed"} 1');
    expect(page).toContain('sf_neurons_last_run_success{connector="acme"} 0');
    expect(page).toContain('sf_neurons_salesforce_api_requests_used{connector="acme"} 12');
  });

  it('escapes label values', async () => {
    const m = createConnectorMetrics();
    m.runStarted('a"b\\c');
    expect(await m.registry.render()).toContain('sf_neurons_run_in_progress{connector="a\\"b\\\\c"} 1');
  });
});
