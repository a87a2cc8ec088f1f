import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { createConnectorMetrics } from '../../../pipeline/observability';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const METRIC = /\b(?:sf_neurons|process|nodejs)_[a-z0-9_]+\b/g;

/** Every metric family the connector and sink processes export, histograms with their series suffixes. */
async function exported(): Promise<Set<string>> {
  const page = await createConnectorMetrics().registry.render();
  const names = new Set<string>();
  for (const [, name, type] of page.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram' || type === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

function expressions(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => expressions(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value))
      if ((k === 'expr' || k === 'query') && typeof v === 'string') out.push(v);
      else expressions(v, out);
  }
  return out;
}

describe('monitoring files name only metrics the code exports', () => {
  it.each([
    [
      'the Grafana dashboard',
      () =>
        JSON.parse(fs.readFileSync(path.join(ROOT, 'monitoring/grafana/sf-neurons-connector.json'), 'utf8')) as unknown,
    ],
    [
      'the Prometheus alert rules',
      () => parse(fs.readFileSync(path.join(ROOT, 'monitoring/prometheus/alerts.yml'), 'utf8')) as unknown,
    ],
  ])('%s', async (_what, load) => {
    const names = await exported();
    const used = [...new Set(expressions(load()).flatMap((e) => e.match(METRIC) ?? []))];
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((n) => !names.has(n))).toEqual([]);
  });
});
