import { limitHeapGrowth } from '../../kernel/heap-growth';
import { startConnector } from '../../pipeline/connector';
import { loadConfigFile, toConnectorSettings, type ConnectorConfig } from '../../pipeline/config';
import { createLogger, type Logger } from '../../kernel/logger';
import { createProgressReporter, type ConnectorMetrics } from '../../pipeline/observability';
import { describeSchedule, startScheduler, systemClock, type Scheduler } from '../../pipeline/schedule';
import type { RunSummary } from '../../pipeline/sync';
import { EXIT, UsageError, type Command } from '../lib/command';
import { adopt, onShutdown } from '../lib/context';
import { metricsPort, serveMetrics } from '../lib/metrics';
import { readRunState } from '../lib/state';

export const startCommand: Command = {
  name: 'start',
  summary: 'the scheduled service: runs each connector on its schedule until SIGTERM',
  usage: 'connector start --config <file> [--config <file> …] [--metrics-port <port>]',
  help: `Runs every given connector (one config file each, e.g. one per Salesforce org) on its
schedule: repeats, startTime in timeZone, active. Runs of one connector never overlap; a failed
run is retried within its slot (runRetries: backoff, never into the next slot); a run
missed while the service was down runs once at start-up (the last run's start is read from
the state topic). SIGHUP re-reads the config files (e.g. to turn "active" on or off).
SIGTERM/SIGINT: no new run starts; a run in progress may finish within shutdownGraceSeconds,
then it is interrupted safely (no tombstones, no watermark move); exit 0.

  -c, --config <file>     a connector's config file; repeat for several connectors
      --metrics-port <n>  serve /metrics and /health (overrides the first config's metrics.port)

Exit: 0 after a clean stop, 1 on a start-up failure, 2 bad usage or config.`,
  options: { config: { type: 'string', short: 'c', multiple: true }, 'metrics-port': { type: 'string' } },
  async run(values) {
    limitHeapGrowth(); // the per-user state is off the heap: a small live heap, kept small (kernel/heap-growth.ts)
    const paths =
      (values.config as string[] | undefined) ?? (process.env.CONNECTOR_CONFIG ? [process.env.CONNECTOR_CONFIG] : []);
    if (paths.length === 0) throw new UsageError('--config <file> is required (or set CONNECTOR_CONFIG)');
    // The connector's role: a shared file's database URL is never read into this process.
    const configs = paths.map((p) => loadConfigFile(p, undefined, { role: 'connector' }));
    const names = configs.map((c) => c.connectorName);
    if (new Set(names).size !== names.length)
      throw new UsageError(`each connector needs its own connectorName (got ${names.join(', ')})`);
    const secrets = configs.flatMap((c) => c.secrets);
    const logger = createLogger({ secrets });
    for (const c of configs) adopt(c, logger.child({ connector: c.connectorName }));
    let fail!: (err: Error) => void;
    const failed = new Promise<Error>((resolve) => (fail = resolve));
    const services = new Map<
      string,
      { config: ConnectorConfig; scheduler?: Scheduler; running: boolean; last: RunSummary | null }
    >();
    const served = await serveMetrics({
      host: configs[0].metrics.host,
      port: metricsPort(values, configs[0].metrics.port),
      logger,
      health: () => ({
        ok: true,
        connectors: [...services.values()].map((s) => ({
          name: s.config.connectorName,
          active: s.config.schedule.active,
          running: s.running,
          lastRun: s.last ? { status: s.last.status, endedAt: s.last.endedAt } : null,
        })),
      }),
    });
    for (const config of configs) {
      const svc = { config, running: false, last: null as RunSummary | null } as {
        config: ConnectorConfig;
        scheduler?: Scheduler;
        running: boolean;
        last: RunSummary | null;
      };
      services.set(config.connectorName, svc);
      const log = logger.child({ connector: config.connectorName });
      log.info('connector scheduled', { schedule: describeSchedule(config.schedule) });
      svc.scheduler = startScheduler({
        schedule: () => svc.config.schedule,
        lastRunStart: async () => (await readRunState(svc.config, log)).lastRun?.startedAt ?? null,
        run: async (slot, signal, attempt) => {
          svc.running = true;
          try {
            svc.last = await runOnce(svc.config, log, served.metrics, signal, { slot, attempt });
            log.info('scheduled run finished', {
              slot: new Date(slot).toISOString(),
              attempt,
              status: svc.last.status,
            });
            return { status: svc.last.status };
          } finally {
            svc.running = false;
          }
        },
        retry: () => svc.config.runRetries,
        clock: systemClock,
        logger: log,
      });
      // The loop only ends on its own if it cannot start (the state topic unreadable): fail the service.
      svc.scheduler.done.catch((err: Error) => {
        log.error('the scheduler could not start: is Kafka reachable and the registry up?', { error: err.message });
        fail(err);
      });
    }
    const reload = () => {
      for (const svc of services.values()) {
        try {
          const next = loadConfigFile(svc.config.source, undefined, { role: 'connector' });
          svc.config = { ...svc.config, schedule: next.schedule, runRetries: next.runRetries };
          logger.info('config reloaded', { connector: next.connectorName, schedule: describeSchedule(next.schedule) });
          svc.scheduler?.wake();
        } catch (err) {
          logger.error('config reload failed; keeping the previous schedule', { error: (err as Error).message });
        }
      }
    };
    process.on('SIGHUP', reload);
    const stopped = new Promise<void>((resolve) => {
      const remove = onShutdown((signal, force) => {
        logger.info('stopping: no new run starts', { signal });
        const grace = force ? 0 : Math.min(...configs.map((c) => c.shutdownGraceMs));
        void Promise.all([...services.values()].map((s) => s.scheduler?.stop(grace))).then(() => {
          remove();
          resolve();
        });
      });
    });
    const outcome = await Promise.race([stopped.then(() => null), failed]);
    process.off('SIGHUP', reload);
    if (outcome) await Promise.all([...services.values()].map((s) => s.scheduler?.stop(0)));
    await served.close();
    logger.info('stopped');
    return outcome ? EXIT.failed : EXIT.ok;
  },
};

/** One scheduled run: connect, sync, close. A broker or registry outage fails this run only. */
async function runOnce(
  config: ConnectorConfig,
  logger: Logger,
  metrics: ConnectorMetrics,
  signal: AbortSignal,
  scheduled: { slot: number; attempt: number },
): Promise<RunSummary> {
  const connector = await startConnector(toConnectorSettings(config), { logger });
  const reporter = createProgressReporter({ stream: process.stderr, logger });
  try {
    metrics.runStarted(config.connectorName);
    const summary = await connector.sync({
      signal,
      scheduled,
      onProgress: (p) => {
        reporter.update(p);
        metrics.progress(config.connectorName, p);
      },
    });
    metrics.runFinished(config.connectorName, summary);
    return summary;
  } finally {
    reporter.finish();
    await connector.close();
  }
}
