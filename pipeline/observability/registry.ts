/**
 * A minimal Prometheus registry: counters and gauges with labels, rendered in the text
 * exposition format (version 0.0.4). Label values are escaped; callers never put secrets in them
 * (they are connector names, topic roles and results).
 */
export type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: number }>;
}

export interface Metric {
  /** Counters: adds `by` (>= 0). */
  inc(labels?: Labels, by?: number): void;
  /** Gauges (and counters fed from an absolute total): sets the value. */
  set(labels: Labels, value: number): void;
  get(labels?: Labels): number;
}

const key = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export class MetricsRegistry {
  private readonly families: Family[] = [];

  counter(name: string, help: string): Metric {
    return this.family(name, help, 'counter');
  }

  gauge(name: string, help: string): Metric {
    return this.family(name, help, 'gauge');
  }

  /** The whole registry in Prometheus text format. */
  render(): string {
    const out: string[] = [];
    for (const f of this.families) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      for (const { labels, value } of f.values.values()) {
        const l = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`).join(',');
        out.push(`${f.name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 'NaN'}`);
      }
    }
    return out.join('\n') + '\n';
  }

  private family(name: string, help: string, type: Family['type']): Metric {
    const f: Family = { name, help, type, values: new Map() };
    this.families.push(f);
    const entry = (labels: Labels) => {
      const k = key(labels);
      let e = f.values.get(k);
      if (!e) f.values.set(k, (e = { labels, value: 0 }));
      return e;
    };
    return {
      inc: (labels = {}, by = 1) => {
        entry(labels).value += by;
      },
      set: (labels, value) => {
        entry(labels).value = value;
      },
      get: (labels = {}) => f.values.get(key(labels))?.value ?? 0,
    };
  }
}
