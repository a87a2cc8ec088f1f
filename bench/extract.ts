/**
 * Extractor benchmark (not a test): extracts 100k and 1M users and 1M login events from the
 * Salesforce simulator and prints records/s and peak RSS for each.
 *
 *   node -r ts-node/register/transpile-only bench/extract.ts [scenario …]
 *
 * Scenarios: users-100k, users-1m, logins-1m (default: all three). Each scenario runs the
 * simulator in one child process and the extractor in another, so the extractor's peak RSS
 * (getrusage maxrss of its own process) is not mixed with the simulator's or another scenario's.
 * Env: BENCH_PARALLEL_PAGES (default 3), BENCH_PAGE_SIZE (default: the simulator's),
 * BENCH_NODE_ARGS (flags for the extractor's node, e.g. --max-old-space-size=128).
 */
import { passwordAuth } from '../simulator/api';
import { spawn } from 'node:child_process';
import { createExtractor } from '../connectors/salesforce';
import { silentLogger } from '../kernel/logger';
import { sleep } from '../kernel/retry';
import { firstJsonLine, spawnSimulator } from './support';

interface Scenario {
  name: string;
  users: number;
  logins: number;
  what: 'users' | 'logins';
}

const SCENARIOS: Scenario[] = [
  { name: 'users-100k', users: 100_000, logins: 10, what: 'users' },
  { name: 'users-1m', users: 1_000_000, logins: 10, what: 'users' },
  { name: 'logins-1m', users: 1_000, logins: 1_000_000, what: 'logins' },
];
const NOW = '2026-11-01T00:00:00.000Z';

interface SimInfo {
  url: string;
  credentials: {
    consumerKey: string;
    consumerSecret: string;
    username: string;
    password: string;
    securityToken: string;
  };
}

interface Measurement {
  scenario: string;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  peakRssMb: number;
  sampledPeakRssMb: number;
  /** RSS after login and describe, before the extraction (ts-node and the code loaded). */
  rssBeforeMb: number;
  pages: number;
  mode: string;
}

const self = __filename;
const nodeArgs = ['-r', 'ts-node/register/transpile-only', self];

/** Child mode 2: run one extraction against the given simulator and report a measurement. */
async function extract(scenario: Scenario, sim: SimInfo): Promise<void> {
  const c = sim.credentials;
  const parallelPages = Number(process.env.BENCH_PARALLEL_PAGES ?? 3);
  const pageSize = process.env.BENCH_PAGE_SIZE ? Number(process.env.BENCH_PAGE_SIZE) : undefined;
  const ex = createExtractor(
    {
      loginUrl: sim.url,
      auth: passwordAuth(c),
      parallelPages,
      pageSize,
      loginLookbackDays: 400,
      jobTimeoutMs: 30 * 60_000,
      apiBudgetShare: 1,
    },
    { logger: silentLogger, clock: { now: () => Date.parse(NOW), sleep } },
  );
  await ex.connect();
  const rssBefore = process.memoryUsage.rss();
  let sampledPeak = rssBefore;
  const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss())), 25);
  const started = process.hrtime.bigint();
  const extraction = scenario.what === 'users' ? ex.users() : ex.logins(null);
  let records = 0;
  for await (const _row of extraction.rows) records++;
  const result = await extraction.done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  await ex.close();
  const main = result.jobs[result.jobs.length - 1];
  const m: Measurement = {
    scenario: scenario.name,
    records,
    seconds,
    recordsPerSecond: Math.round(records / seconds),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    sampledPeakRssMb: Math.round(Math.max(sampledPeak, process.memoryUsage.rss()) / 1048576),
    rssBeforeMb: Math.round(rssBefore / 1048576),
    pages: main.pages,
    mode: main.mode,
  };
  process.stdout.write(JSON.stringify(m) + '\n');
}

async function orchestrate(names: string[]): Promise<void> {
  const chosen = names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
  const results: Measurement[] = [];
  for (const s of chosen) {
    const sim = await spawnSimulator(s.users, s.logins, NOW);
    try {
      const extraArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
      const exChild = spawn(process.execPath, [...extraArgs, ...nodeArgs, '--extract', s.name], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, BENCH_SIM: JSON.stringify({ url: sim.url, credentials: sim.credentials }) },
      });
      const m = await firstJsonLine<Measurement>(exChild);
      results.push(m);
      process.stdout.write(
        `${m.scenario}: ${m.records} records in ${m.seconds.toFixed(1)} s = ${m.recordsPerSecond} ` +
          `records/s, peak RSS ${m.peakRssMb} MB (${m.rssBeforeMb} MB before extracting; ${m.pages} ` +
          `pages, ${m.mode})\n`,
      );
    } finally {
      await sim.stop();
    }
  }
  process.stdout.write('\nscenario      records   records/s   peak RSS (MB)   RSS before (MB)\n');
  for (const m of results) {
    process.stdout.write(
      `${m.scenario.padEnd(12)} ${String(m.records).padStart(8)} ` +
        `${String(m.recordsPerSecond).padStart(11)} ${String(m.peakRssMb).padStart(15)} ` +
        `${String(m.rssBeforeMb).padStart(17)}\n`,
    );
  }
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === '--extract') {
    const scenario = SCENARIOS.find((s) => s.name === rest[0]);
    if (!scenario) throw new Error(`unknown scenario ${rest[0]}`);
    return extract(scenario, JSON.parse(process.env.BENCH_SIM ?? '{}') as SimInfo);
  }
  return orchestrate([mode, ...rest].filter(Boolean));
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
