import { createKafka } from '../../pipeline/kafka/client';
import { toSinkConfig } from '../../pipeline/config';
import { sinkLag } from '../../pipeline/observability';
import { DEFAULT_SINK_GROUP, fromConfig, replayFromConfig } from '../../sinks';
import { CONFIG_OPTION, EXIT, UsageError, configPath, type Command } from '../lib/command';
import { loadContext, onShutdown } from '../lib/context';
import { metricsPort, serveMetrics } from '../lib/metrics';

/** How often the sink's lag is measured for the metrics, in ms. */
const LAG_EVERY_MS = 5_000;

export const sinkCommand: Command = {
  name: 'sink',
  summary: 'the consumer service: Kafka → PostgreSQL until SIGTERM',
  usage: 'connector sink --config <file> [--metrics-port <port>]',
  help: `Consumes the users and login-history topics and writes them to PostgreSQL (database.url, or an
embedded PostgreSQL when none is configured): upserts, deletes on tombstones, idempotent login
inserts; offsets are committed only after the database commits. Runs until SIGINT/SIGTERM.

  -c, --config <file>     the connector's config file (or CONNECTOR_CONFIG)
      --metrics-port <n>  serve /metrics (rows written, lag, dead letters) and /health

Exit: 0 after a clean stop, 1 when the sink stopped on an error, 2 bad usage or config.`,
  options: { ...CONFIG_OPTION, 'metrics-port': { type: 'string' } },
  async run(values) {
    const { config, logger } = loadContext(configPath(values));
    const sinkConfig = toSinkConfig(config);
    const sink = fromConfig(sinkConfig, { logger });
    let healthy = false;
    const served = await serveMetrics({ host: config.metrics.host, port: metricsPort(values, config.metrics.port), logger, health: () => ({ ok: healthy, connector: config.connectorName, ...sink.stats() }) });
    const admin = createKafka(sinkConfig.kafka, logger).admin();
    const measure = async () => {
      served.metrics.sink(config.connectorName, sink.stats());
      const lag = await sinkLag(admin, sinkConfig.groupId ?? DEFAULT_SINK_GROUP, [config.topics.users, config.topics.logins]).catch(() => NaN);
      served.metrics.sinkLag(config.connectorName, lag);
    };
    const timer = setInterval(() => void measure(), LAG_EVERY_MS);
    const remove = onShutdown((signal) => {
      logger.info('stopping the sink', { signal });
      void sink.stop();
    });
    try {
      await admin.connect();
      await sink.start();
      healthy = true;
      await measure();
      await sink.done;
      healthy = false;
      logger.info('sink stopped', { ...sink.stats() });
      return EXIT.ok;
    } catch (err) {
      await sink.stop().catch(() => undefined);
      throw err;
    } finally {
      clearInterval(timer);
      remove();
      await admin.disconnect().catch(() => undefined);
      await served.close();
    }
  },
};

export const replayCommand: Command = {
  name: 'replay',
  summary: 'backfill: rebuild the PostgreSQL tables from the topics, swapped in atomically',
  usage: 'connector replay --config <file> [--only users|logins]',
  help: `Rebuilds the sink's tables from the earliest offsets into fresh tables, then swaps them in
under a lock: the live tables stay readable meanwhile. The users topic is compacted, so it
holds the current state of every user.

  -c, --config <file>   the connector's config file (or CONNECTOR_CONFIG)
      --only <what>     users or logins (default: both)

Exit: 0 done, 1 failed, 2 bad usage or config.`,
  options: { ...CONFIG_OPTION, only: { type: 'string' } },
  async run(values) {
    const ctx = loadContext(configPath(values));
    const only = values.only as string | undefined;
    if (only !== undefined && only !== 'users' && only !== 'logins') throw new UsageError('--only takes users or logins');
    const result = await replayFromConfig(toSinkConfig(ctx.config), {
      logger: ctx.logger,
      only: only ? [only as 'users' | 'logins'] : undefined,
      onProgress: (p) => ctx.logger.info('replay progress', { ...p }),
    });
    ctx.out(JSON.stringify(result));
    return EXIT.ok;
  },
};
