import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus registry, on prom-client: our counters, gauges and histograms, plus
 * prom-client's default process metrics (resident memory, heap, event-loop lag, GC, CPU, open
 * file descriptors). Label values are escaped by prom-client; callers never put secrets in them
 * (they are connector names, topic roles and results). Label names are declared with each metric.
 */
export type Labels = Record<string, string>;

export interface Metric {
  /** Counters: adds `by` (>= 0). */
  inc(labels?: Labels, by?: number): void;
  /** Gauges: sets the value. */
  set(labels: Labels, value: number): void;
}

export interface Timing {
  /** Records one observation, in seconds. */
  observe(labels: Labels, seconds: number): void;
}

export class MetricsRegistry {
  readonly prom = new Registry();

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.prom });
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Metric {
    const c = new Counter({ name, help, labelNames, registers: [this.prom] });
    return {
      inc: (labels = {}, by = 1) => c.inc(labels, by),
      set: () => {
        throw new Error(`${name} is a counter: it only goes up (inc)`);
      },
    };
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Metric {
    const g = new Gauge({ name, help, labelNames, registers: [this.prom] });
    return {
      inc: (labels = {}, by = 1) => g.inc(labels, by),
      set: (labels, value) => g.set(labels, value),
    };
  }

  /** A histogram of durations in seconds, with buckets fit for what it measures. */
  histogram(name: string, help: string, labelNames: readonly string[], buckets: number[]): Timing {
    const h = new Histogram({ name, help, labelNames, buckets, registers: [this.prom] });
    return { observe: (labels, seconds) => h.observe(labels, seconds) };
  }

  /** The whole registry in the Prometheus text format. */
  render(): Promise<string> {
    return this.prom.metrics();
  }

  get contentType(): string {
    return this.prom.contentType;
  }
}
