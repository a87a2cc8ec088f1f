/**
 * What the pipeline benchmark writes: one JSON file per scale (the figures of one run), a
 * markdown table of it, and a chart of throughput and memory against scale drawn from every
 * result file in the folder, so that running the command at several scales fills the chart.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderChart, type ChartSeries } from './chart';
import { fmt } from './support';

export interface StageFigure {
  stage: string;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  /** The reference measured in the same run, and our rate divided by its rate. */
  reference?: { what: string; recordsPerSecond: number; ratio: number };
  note?: string;
}

/** One kind of record against the floor of this machine, all measured in the same run. */
export interface FloorFigure {
  kind: 'users' | 'logins';
  records: number;
  'plain read': number;
  ProducerPerformance: number;
  COPY: number;
  /** The slowest of the three (records/s), and which it was. */
  floor: number;
  floorBy: string;
  /** Our rates: the sync run's phase for this kind (sim -> Kafka) and end to end (sim -> PostgreSQL). */
  syncPhase: number;
  endToEnd: number;
  /** endToEnd / floor. */
  ratio: number;
}

export interface BenchResult {
  kind: 'pipeline';
  date: string;
  machine: { cpus: number; memoryGb: number; node: string; host: string };
  scale: { users: number; logins: number };
  settings: {
    compression: string;
    partitions: number;
    parallelPages: number;
    /** How the connector, the sink and the other roles ran (absent in results before session 20). */
    runtime?: string;
    /** Whether the connector kept its live indexes' checkpoints (indexCheckpointDir; absent before session 21). */
    indexCheckpoints?: boolean;
  };
  stages: StageFigure[];
  /** Users and login events apart, against the machine's floor (absent in results before issue 15). */
  floors?: FloorFigure[];
  /** Bytes of one real users-topic value (Confluent frame included). */
  userValueBytes?: number;
  /** Peak RSS (MB) of each process, at this scale. */
  peakRssMb: Record<string, number | null>;
  /** Where the CPU went during the end-to-end run, in CPU seconds per process. */
  cpuSeconds: Record<string, number | null>;
  /** The end-to-end phase: CPU seconds the machine had, and what each process used of them. */
  endToEndCpu: { seconds: number; available: number; byProcess: Record<string, number | null> };
  /** What the peak was made of (process.memoryUsage() at the highest sampled RSS), per role. */
  memoryAtPeakMb: Record<
    string,
    { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number }
  >;
  targets: { what: string; target: string; reached: string; met: boolean }[];
}

export function resultFile(dir: string, r: Pick<BenchResult, 'scale'>): string {
  return path.join(dir, `pipeline-${r.scale.users}-users-${r.scale.logins}-logins.json`);
}

export function markdown(r: BenchResult): string {
  const lines = [
    `## Pipeline benchmark: ${fmt(r.scale.users)} users, ${fmt(r.scale.logins)} login events`,
    '',
    `${r.date}; ${r.machine.cpus} CPUs, ${r.machine.memoryGb} GiB, Node ${r.machine.node}; Kafka, ` +
      `the registry, PostgreSQL and the simulator on the same machine. ` +
      `Producer compression ${r.settings.compression}, ${r.settings.partitions} partitions per ` +
      `topic, ${r.settings.parallelPages} result pages read in parallel.` +
      (r.settings.runtime
        ? ` The connector, the sink and the other roles ran with ${r.settings.runtime}; ` +
          `the simulator with Node's defaults.`
        : '') +
      (r.settings.indexCheckpoints
        ? " The connector kept its live indexes' checkpoints (indexCheckpointDir, as the compose stack)."
        : ''),
    '',
    '| stage | records | seconds | records/s | reference, same run | reference records/s | ratio |',
    '|---|---:|---:|---:|---|---:|---:|',
    ...r.stages.map(
      (s) =>
        `| ${s.stage} | ${fmt(s.records)} | ${s.seconds.toFixed(1)} | ${fmt(s.recordsPerSecond)} | ` +
        `${s.reference?.what ?? ''} | ${s.reference ? fmt(s.reference.recordsPerSecond) : ''} | ` +
        `${s.reference ? s.reference.ratio.toFixed(2) : ''} |`,
    ),
    '',
    ...(r.floors
      ? [
          'The floor of this machine per kind, same run: the slowest of a plain read of the CSV pages, ' +
            'Kafka ProducerPerformance with the same record size, and PostgreSQL COPY of the same rows ' +
            '(records/s):',
          '',
          '| kind | records | plain read | ProducerPerformance | COPY | floor | ours, sync phase (sim -> ' +
            'Kafka) | ours, end to end (sim -> PostgreSQL) | end to end / floor |',
          '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
          ...r.floors.map(
            (f) =>
              `| ${f.kind === 'users' ? 'users' : 'login events'} | ${fmt(f.records)} | ` +
              `${fmt(f['plain read'])} | ${fmt(f.ProducerPerformance)} | ${fmt(f.COPY)} | ${fmt(f.floor)} ` +
              `(${f.floorBy}) | ${fmt(f.syncPhase)} | ${fmt(f.endToEnd)} | ${f.ratio.toFixed(2)} |`,
          ),
          '',
        ]
      : []),
    '| process | peak RSS (MB) | at the peak: V8 heap used / total, external (MB) | CPU seconds (whole process) |',
    '|---|---:|---|---:|',
    ...Object.keys(r.peakRssMb).map((p) => {
      const m = r.memoryAtPeakMb[p];
      return (
        `| ${p} | ${r.peakRssMb[p] ?? 'n/a'} | ` +
        `${m ? `${m.heapUsed} / ${m.heapTotal}, ${m.external}` : ''} | ` +
        `${r.cpuSeconds[p]?.toFixed(1) ?? 'n/a'} |`
      );
    }),
    '',
    `Where the CPU went during the end-to-end phase (${r.endToEndCpu.seconds.toFixed(0)} s x ` +
      `${r.machine.cpus} CPUs = ${r.endToEndCpu.available.toFixed(0)} CPU seconds):`,
    '',
    '| process | CPU seconds | share of the machine |',
    '|---|---:|---:|',
    ...Object.entries(r.endToEndCpu.byProcess).map(
      ([p, s]) =>
        `| ${p} | ${s === null ? 'n/a' : s.toFixed(1)} | ` +
        `${s === null ? '' : `${((100 * s) / r.endToEndCpu.available).toFixed(0)} %`} |`,
    ),
    '',
    '| target | wanted | reached | met |',
    '|---|---|---|---|',
    ...r.targets.map((t) => `| ${t.what} | ${t.target} | ${t.reached} | ${t.met ? 'yes' : 'no'} |`),
    '',
    ...r.stages.filter((s) => s.note).map((s) => `- ${s.stage}: ${s.note}`),
  ];
  return lines.join('\n') + '\n';
}

/** Throughput of each stage and peak RSS of each process against the number of users, from every result in `dir`. */
export function chartFromResults(dir: string): string | null {
  const results = fs
    .readdirSync(dir)
    .filter((f) => /^pipeline-.*\.json$/.test(f))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as BenchResult)
    .sort((a, b) => a.scale.users - b.scale.users);
  if (results.length === 0) return null;
  const palette: [number, number, number][] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
  ];
  const series = (
    names: string[],
    value: (r: BenchResult, name: string) => number | null | undefined,
    dashed = false,
  ): ChartSeries[] =>
    names.map((name, i) => ({
      name,
      color: palette[i % palette.length],
      dashed,
      points: results.flatMap((r) => {
        const y = value(r, name);
        return y === null || y === undefined ? [] : [{ x: r.scale.users, y }];
      }),
    }));
  // A stage measured once but compared twice (the sink) is drawn once.
  const stages = [
    ...new Set(results.flatMap((r) => r.stages.filter((s) => !s.stage.includes(', against ')).map((s) => s.stage))),
  ];
  const runLabel = (r: BenchResult): string =>
    `${fmt(r.scale.users)} users + ${fmt(r.scale.logins)} logins (${r.date.slice(0, 10)})`;
  const processes = [...new Set(results.flatMap((r) => Object.keys(r.peakRssMb)))];
  return renderChart({
    title: 'Salesforce -> Kafka -> PostgreSQL: throughput and memory against scale',
    xLabel: 'users in the org (login events: see each result file)',
    panels: [
      {
        title: 'throughput per stage',
        yLabel: 'records/s',
        series: series(stages, (r, s) => r.stages.find((x) => x.stage === s)?.recordsPerSecond),
      },
      { title: 'peak RSS per process', yLabel: 'MB', series: series(processes, (r, p) => r.peakRssMb[p]) },
      ...(results.some((r) => r.floors)
        ? [
            {
              title: "end to end / the machine's floor (same run)",
              yLabel: 'ratio',
              series: series(['users', 'logins'], (r, kind) => r.floors?.find((f) => f.kind === kind)?.ratio),
            },
          ]
        : []),
    ],
    footnote: `${results.length} run(s): ${results.map(runLabel).join('; ')}`,
  });
}
