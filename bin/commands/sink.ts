import { SINK_HEAP_GROWING_PERCENT, limitHeapGrowth } from '../../kernel/heap-growth';
import { toSinkConfig } from '../../pipeline/config';
import { STREAMS } from '../../schemas/streams';
import { fromConfig, replayFromConfig, type SinkHealthReport } from '../../sinks';
import { CONFIG_OPTION, EXIT, UsageError, configPath, type Command } from '../lib/command';
import { loadContext, onShutdown } from '../lib/context';
import { metricsPort, serveMetrics } from '../lib/metrics';

/** How often the sink's health and lag are measured for /health and the metrics, in ms. */
const LAG_EVERY_MS = 5_000;

export const sinkCommand: Command = {
  name: 'sink',
  summary: 'the consumer service: Kafka → PostgreSQL until SIGTERM',
  usage: 'connector sink --config <file> [--metrics-port <port>]',
  help: `Consumes the users and login-history topics and writes them to PostgreSQL (database.url, or an
embedded PostgreSQL when none is configured): upserts, deletes on tombstones, idempotent login
inserts; each partition's offset is stored in the database with its rows (exactly once). Runs until SIGINT/SIGTERM.

  -c, --config <file>     the connector's config file (or CONNECTOR_CONFIG)
      --metrics-port <n>  serve /metrics (rows written, lag per partition, age of the last commit,
                          dead letters) and /health (503 while the database is unreachable, a
                          partition waits on registry/database trouble, or lag sits uncommitted
                          for tuning.stallAfterMs)

Exit: 0 after a clean stop, 1 when the sink stopped on an error, 2 bad usage or config.`,
  options: { ...CONFIG_OPTION, 'metrics-port': { type: 'string' } },
  async run(values) {
    limitHeapGrowth(SINK_HEAP_GROWING_PERCENT); // a small heap, kept small (kernel/heap-growth.ts)
    const { config, logger } = loadContext(configPath(values), 'sink');
    const sinkConfig = toSinkConfig(config);
    let onBatch: (b: { seconds: number }) => void = () => undefined; // the metrics, once served
    const sink = fromConfig(sinkConfig, { logger, onBatch: (b) => onBatch(b) });
    let started = false;
    let report: SinkHealthReport | undefined;
    // /health answers from the last measurement (every LAG_EVERY_MS): the truth about the
    // database, waiting partitions and stalls, not merely "the process is up".
    const health = () => {
      const ok = started && report !== undefined && report.ready;
      const reasons = !started ? ['the sink is not running'] : (report?.reasons ?? ['not measured yet']);
      return {
        ok,
        connector: config.connectorName,
        reasons,
        lastCommitAgeMs: report?.lastCommitAgeMs,
        ...sink.stats(),
      };
    };
    const served = await serveMetrics({
      host: config.metrics.host,
      port: metricsPort(values, config.metrics.port),
      logger,
      health,
    });
    onBatch = (b) => served.metrics.sinkBatch(config.connectorName, b.seconds);
    const gauges = {
      lag: served.metrics.registry.gauge(
        'sf_neurons_sink_partition_lag_records',
        "Records in a source partition after the sink's stored (database) offset.",
        ['connector', 'topic', 'partition'],
      ),
      waiting: served.metrics.registry.gauge(
        'sf_neurons_sink_partition_waiting',
        '1 while a partition waits on registry, database or dead-letter trouble.',
        ['connector', 'topic', 'partition'],
      ),
      commitAge: served.metrics.registry.gauge(
        'sf_neurons_sink_last_commit_age_seconds',
        'Seconds since the sink last committed a batch.',
        ['connector'],
      ),
      ready: served.metrics.registry.gauge('sf_neurons_sink_ready', '1 when /health is ready.', ['connector']),
    };
    const measure = async () => {
      served.metrics.sink(config.connectorName, sink.stats());
      report = await sink.health().catch((err: Error) => ({
        ready: false,
        reasons: [`health check failed: ${err.message}`],
        databaseReachable: false,
        lastCommitAgeMs: Number.NaN,
        partitions: [],
      }));
      const connector = config.connectorName;
      let total = 0;
      for (const p of report.partitions) {
        const labels = { connector, topic: p.topic, partition: String(p.partition) };
        gauges.lag.set(labels, p.lag);
        gauges.waiting.set(labels, p.trouble ? 1 : 0);
        total += p.lag;
      }
      served.metrics.sinkLag(connector, total);
      gauges.commitAge.set({ connector }, report.lastCommitAgeMs / 1000);
      gauges.ready.set({ connector }, report.ready ? 1 : 0);
    };
    const timer = setInterval(() => void measure(), LAG_EVERY_MS);
    const remove = onShutdown((signal) => {
      logger.info('stopping the sink', { signal });
      void sink.stop();
    });
    try {
      await sink.start();
      started = true;
      await measure();
      await sink.done;
      started = false;
      logger.info('sink stopped', { ...sink.stats() });
      return EXIT.ok;
    } catch (err) {
      await sink.stop().catch(() => undefined);
      throw err;
    } finally {
      clearInterval(timer);
      remove();
      await served.close();
    }
  },
};

export const replayCommand: Command = {
  name: 'replay',
  summary: 'backfill and reconciliation: rebuild the PostgreSQL tables from the topics, merged in atomically',
  usage: 'connector replay --config <file> [--only <stream>]',
  help: `Rebuilds the sink's tables from the earliest offsets into fresh tables, then merges them into
the live tables in one transaction (writers wait, readers go on). Non-destructive: the live tables
stay, with your indexes, grants, comments and views; login events are only added, so those older
than the topic's retention stay; only the fresh tables it created are ever dropped. Users absent
from the compacted users topic are removed (reconciliation), only those of the connectors the topic
holds, with their login events under sink.onUserRemoved: delete-logins.

  -c, --config <file>   the connector's config file (or CONNECTOR_CONFIG)
      --only <stream>   one declared stream: users (the reconciliation against the users topic),
                        logins, … (default: every declared stream)

Exit: 0 done, 1 failed, 2 bad usage or config.`,
  options: { ...CONFIG_OPTION, only: { type: 'string' } },
  async run(values) {
    const ctx = loadContext(configPath(values), 'sink');
    const only = values.only as string | undefined;
    const names = STREAMS.map((s) => s.name);
    if (only !== undefined && !names.includes(only))
      throw new UsageError(`--only takes a declared stream: ${names.join(', ')}`);
    const result = await replayFromConfig(toSinkConfig(ctx.config), {
      logger: ctx.logger,
      only: only ? [only] : undefined,
      onProgress: (p) => ctx.logger.info('replay progress', { ...p }),
    });
    ctx.out(JSON.stringify(result));
    return EXIT.ok;
  },
};
