/** Progress lines, Prometheus metrics and the health endpoint. */
export { MetricsRegistry, type Metric, type Labels } from './registry';
export { createConnectorMetrics, type ConnectorMetrics } from './connector-metrics';
export { startMetricsServer, type MetricsServer, type Health } from './server';
export { createProgressReporter, type ProgressReporter } from './progress';
export { sinkLag } from './sink-lag';
