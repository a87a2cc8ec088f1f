import {
  createConnectorMetrics,
  startMetricsServer,
  type ConnectorMetrics,
  type Health,
  type MetricsServer,
} from '../../pipeline/observability';
import type { Logger } from '../../kernel/logger';

/** The process's metrics, served when a port is configured (config metrics.port or --metrics-port). */
export interface ServedMetrics {
  metrics: ConnectorMetrics;
  server: MetricsServer | null;
  close(): Promise<void>;
}

export async function serveMetrics(opts: {
  host: string;
  port: number | null;
  health: () => Health;
  logger: Logger;
}): Promise<ServedMetrics> {
  const metrics = createConnectorMetrics();
  let server: MetricsServer | null = null;
  if (opts.port !== null) {
    server = await startMetricsServer({
      host: opts.host,
      port: opts.port,
      metrics: () => metrics.registry.render(),
      health: opts.health,
    });
    opts.logger.info('metrics and health endpoints listening', {
      url: server.url,
      metrics: `${server.url}/metrics`,
      health: `${server.url}/health`,
    });
  }
  return { metrics, server, close: async () => server?.close() };
}

export function metricsPort(values: Record<string, unknown>, configured: number | null): number | null {
  if (values['metrics-port'] === undefined) return configured;
  const n = Number(values['metrics-port']);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error('--metrics-port takes a TCP port 0-65535 (0: any free port)');
  return n;
}
