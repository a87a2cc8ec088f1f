/**
 * The simulator's own cost of a plain read of the CSV pages (a command, not a test): starts a
 * simulator from a checkout's dist/ (this one, or --roots' for a side-by-side A B A B), runs the
 * pipeline bench's step 1 against it (OAuth, the extractor's describe and its two Bulk queries,
 * every result page by locator with gzip, bytes counted and thrown away, 3 pages at a time as the
 * extractor reads them) and reports the simulator process's CPU seconds (/proc/<pid>/stat), the
 * read's wall seconds and the simulator's peak RSS (VmHWM).
 *
 *   npm run build && node dist/bench/sim-read.js --users 200000 --logins 200000 \
 *     [--roots /work/wt/s14-base,.] [--rounds 2] [--cpu-prof DIR] [--parallel 3] [--gzip false]
 *
 * --roots: checkouts whose dist/simulator/cli.js to run, alternated round by round (A B A B).
 * --cpu-prof DIR: the simulator runs under `node --cpu-prof` and writes its profile into DIR on exit.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createExtractor } from '../connectors/salesforce';
import { buildLoginQuery, buildUserQuery } from '../connectors/salesforce/soql';
import { silentLogger } from '../kernel/logger';
import { bulkSession, completedQueryJob, deleteJob } from './bulk-session';
import { passwordAuth } from '../simulator/api';
import { firstJsonLine } from './support';

const NOW = '2026-11-01T00:00:00.000Z';

interface Args {
  users: number;
  logins: number;
  roots: string[];
  rounds: number;
  cpuProf?: string;
  parallel: number;
  gzip: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { users: 200_000, logins: 200_000, roots: [process.cwd()], rounds: 1, parallel: 3, gzip: true };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (argv[i] === '--users') a.users = Number(v);
    else if (argv[i] === '--logins') a.logins = Number(v);
    else if (argv[i] === '--roots') a.roots = v.split(',').map((r) => path.resolve(r));
    else if (argv[i] === '--rounds') a.rounds = Number(v);
    else if (argv[i] === '--cpu-prof') a.cpuProf = path.resolve(v);
    else if (argv[i] === '--parallel') a.parallel = Number(v);
    else if (argv[i] === '--gzip') a.gzip = v !== 'false';
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return a;
}

/** utime + stime of a process, seconds. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

interface Figures {
  root: string;
  rows: number;
  bytes: number;
  wallSeconds: number;
  simCpuSeconds: number;
  simCpuAtStart: number;
  peakRssMb: number;
  load: string;
}

async function readAll(url: string, credentials: Parameters<typeof passwordAuth>[0], parallel: number, gzip: boolean) {
  const ex = createExtractor(
    {
      loginUrl: url,
      auth: passwordAuth(credentials),
      loginLookbackDays: 400,
      parallelPages: parallel,
      pollInitialMs: 100,
      pollMaxMs: 500,
      jobTimeoutMs: 30 * 60_000,
      apiBudgetShare: 1,
    },
    { logger: silentLogger },
  );
  const info = await ex.connect();
  await ex.close();
  const session = await bulkSession(url, credentials, { gzip });
  const { headers } = session;
  const since = new Date(Date.parse(NOW) - 400 * 86_400_000);
  let rows = 0;
  let bytes = 0;
  for (const query of [
    buildLoginQuery(info.loginFields, since),
    buildUserQuery(info.userFields, ['active', 'inactive', 'frozen']),
  ]) {
    const jobId = await completedQueryJob(session, query);
    // resultPages hands out up to 5 page URLs at a time; read them `parallel` at once
    let next: string | null = `/services/data/v62.0/jobs/query/${jobId}/resultPages`;
    while (next) {
      const list = (await (await fetch(`${session.instanceUrl}${next}`, { headers })).json()) as {
        resultPages: { resultUrl: string }[];
        nextRecordsUrl: string | null;
      };
      const urls = list.resultPages.map((p) => p.resultUrl);
      const worker = async (): Promise<void> => {
        for (let u = urls.shift(); u !== undefined; u = urls.shift()) {
          const res = await fetch(`${session.instanceUrl}${u}`, { headers });
          if (!res.ok || !res.body) throw new Error(`results HTTP ${res.status}`);
          for await (const chunk of res.body as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
          rows += Number(res.headers.get('sforce-numberofrecords'));
        }
      };
      await Promise.all(Array.from({ length: parallel }, worker));
      next = list.nextRecordsUrl;
    }
    await deleteJob(session, jobId);
  }
  return { rows, bytes };
}

async function once(root: string, a: Args): Promise<Figures> {
  const flags = a.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', a.cpuProf] : [];
  const child = spawn(
    process.execPath,
    [
      ...flags,
      path.join(root, 'dist/simulator/cli.js'),
      '--users',
      String(a.users),
      '--logins',
      String(a.logins),
      '--now',
      NOW,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const info = await firstJsonLine<{ url: string; credentials: Parameters<typeof passwordAuth>[0] }>(child);
  const pid = child.pid!;
  const simCpuAtStart = cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  const { rows, bytes } = await readAll(info.url, info.credentials, a.parallel, a.gzip);
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const simCpuSeconds = cpuSeconds(pid) - simCpuAtStart;
  const rss = peakRssMb(pid);
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return { root, rows, bytes, wallSeconds, simCpuSeconds, simCpuAtStart, peakRssMb: rss, load };
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const all: Figures[] = [];
  for (let r = 0; r < a.rounds; r++)
    for (const root of a.roots) {
      const f = await once(root, a);
      all.push(f);
      process.stdout.write(
        `${path.basename(root)}: rows ${f.rows} bytes ${f.bytes} sim CPU ${f.simCpuSeconds.toFixed(2)} s ` +
          `(start ${f.simCpuAtStart.toFixed(2)}) wall ${f.wallSeconds.toFixed(2)} s ` +
          `peak RSS ${f.peakRssMb} MB load ${f.load}\n`,
      );
    }
  process.stdout.write(JSON.stringify(all) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`sim-read: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
