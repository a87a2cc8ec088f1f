import { limitHeapGrowth } from '../../kernel/heap-growth';
import { startConnector } from '../../pipeline/connector';
import { toConnectorSettings } from '../../pipeline/config';
import { createProgressReporter } from '../../pipeline/observability';
import type { RunSummary } from '../../pipeline/sync';
import { CONFIG_OPTION, EXIT, configPath, type Command } from '../lib/command';
import { loadContext, onShutdown } from '../lib/context';
import { metricsPort, serveMetrics } from '../lib/metrics';

export const syncCommand: Command = {
  name: 'sync',
  summary: 'run one sync now (Salesforce → Kafka), then exit',
  usage:
    'connector sync --config <file> [--dry-run] [--full-republish] [--allow-mass-delete] [--allow-field-loss] ' +
    '[--metrics-port <port>]',
  help: `Runs one sync of the connector: LoginHistory since the last watermark, the User snapshot,
deletions (tombstones) when the run is complete and the deletion guard allows them.
Prints the run summary (JSON) on stdout. Ignores "active" and the schedule.

  -c, --config <file>     the connector's config file (or CONNECTOR_CONFIG)
      --dry-run           publish nothing; report what would be published and deleted
      --full-republish    publish every user, changed or not
      --allow-mass-delete let this run through the deletion guard (its maxCount still holds)
      --allow-field-loss  let this run go on although fields the last run read are no longer
                          readable (a permission change): they become null for every user
      --metrics-port <n>  serve /metrics and /health during the run (0: any free port)

SIGINT/SIGTERM interrupt the run safely: no tombstones, no watermark move.
Exit: 0 succeeded, 1 failed or interrupted, 2 bad usage or config.`,
  options: {
    ...CONFIG_OPTION,
    'dry-run': { type: 'boolean' },
    'full-republish': { type: 'boolean' },
    'allow-mass-delete': { type: 'boolean' },
    'allow-field-loss': { type: 'boolean' },
    'metrics-port': { type: 'string' },
  },
  async run(values) {
    limitHeapGrowth(); // the per-user state is off the heap: a small live heap, kept small (kernel/heap-growth.ts)
    const ctx = loadContext(configPath(values), 'connector');
    const { config, logger } = ctx;
    let summary: RunSummary | null = null;
    const served = await serveMetrics({
      host: config.metrics.host,
      port: metricsPort(values, config.metrics.port),
      logger,
      health: () => ({
        ok: summary === null || summary.status === 'succeeded',
        connector: config.connectorName,
        running: summary === null,
      }),
    });
    const abort = new AbortController();
    const removeHandlers = onShutdown((signal) => {
      logger.warn('interrupting the run: it publishes no tombstones and moves no watermark', { signal });
      abort.abort();
    });
    const reporter = createProgressReporter({ stream: process.stderr, logger });
    try {
      const connector = await startConnector(toConnectorSettings(config), { logger });
      try {
        served.metrics.runStarted(config.connectorName);
        summary = await connector.sync({
          dryRun: values['dry-run'] === true,
          fullRepublish: values['full-republish'] === true,
          allowMassDelete: values['allow-mass-delete'] === true,
          allowFieldLoss: values['allow-field-loss'] === true,
          signal: abort.signal,
          onProgress: (p) => {
            reporter.update(p);
            served.metrics.progress(config.connectorName, p);
          },
        });
        served.metrics.runFinished(config.connectorName, summary);
      } finally {
        reporter.finish();
        await connector.close();
      }
      ctx.out(JSON.stringify(summary));
      return summary.status === 'succeeded' ? EXIT.ok : EXIT.failed;
    } finally {
      removeHandlers();
      await served.close();
    }
  },
};
