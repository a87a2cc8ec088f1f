/**
 * Where a routine run's wall time goes (issue 15), a command: one org and one set of topics, a
 * first full run and a routine run with nothing changed (bench roles, from dist/), then --runs
 * routine runs with --changed of the users changed before each, each in a process of its own
 * (this file's --child mode) that prints the run's timeline: every log line (debug: each
 * Salesforce request, each job created, read and verified, each live index loaded, each stream
 * read) at its second, and per --slice ms the connector's event-loop utilization and CPU and the
 * simulator's CPU. A slice where the connector's loop is idle is a wait (on a Bulk job, a page,
 * Kafka).
 *
 *   npm run build && node -r ts-node/register/transpile-only bench/routine-timeline.ts --users 100000 \
 *     [--runs 1] [--changed 0.01] [--slice 250]
 *
 * The child runs with the image's flags (bench/image-flags.ts), as bench/routine-ab.ts's runs.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { createLogger, silentLogger } from '../kernel/logger';
import { limitHeapGrowth } from '../kernel/heap-growth';
import { startConnector, type ConnectorSettings } from '../pipeline/connector';
import { provisionTopics } from '../kafka/topics';
import { ensureServices, stopServices } from '../devstack/services';
import type { SyncFigures } from './roles';
import { imageEnv, IMAGE_NODE_ARGS } from './image-flags';
import {
  benchSettings,
  deleteBenchSubjects,
  deleteBenchTopics,
  fmt,
  spawnRole,
  spawnSimulator,
  type RoleProcess,
  type SimHandle,
  ROOT,
} from './support';

const log = (line: string) => process.stderr.write(`[bench:routine-timeline] ${line}\n`);
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

/** CPU seconds (user + system) of a process so far, from /proc; NaN when unreadable. */
function cpuOf(pid: number): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** The fields of a log line worth a timeline column (ids, objects, counts), in one short string. */
function brief(o: Record<string, unknown>): string {
  const keep = [
    'request',
    'label',
    'job',
    'object',
    'stream',
    'rowsRead',
    'pages',
    'live',
    'tailRecords',
    'source',
    'extracted',
    'published',
    'unchanged',
    'liveIndexMs',
    'readPublishMs',
    'read',
  ];
  return keep
    .filter((k) => o[k] !== undefined)
    .map((k) => `${k}=${typeof o[k] === 'object' ? JSON.stringify(o[k]) : String(o[k])}`)
    .join(' ');
}

async function child(settings: ConnectorSettings, simPid: number, sliceMs: number): Promise<void> {
  limitHeapGrowth(); // as bin/commands/sync.ts does for a connector run
  const events: { t: number; line: string }[] = [];
  let t0 = performance.now();
  const logger = createLogger({
    level: 'debug',
    write: (line: string) => {
      const o = JSON.parse(line) as Record<string, unknown>;
      events.push({ t: performance.now(), line: `${String(o.msg)}  ${brief(o)}` });
    },
  });
  const slices: { t: number; elu: number; cpu: number; sim: number }[] = [];
  let elu = performance.eventLoopUtilization();
  let cpu = process.cpuUsage();
  let sim = cpuOf(simPid);
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const e = performance.eventLoopUtilization(elu);
    const c = process.cpuUsage(cpu);
    const s = cpuOf(simPid);
    const secs = (now - last) / 1000;
    slices.push({ t: now, elu: e.utilization, cpu: (c.user + c.system) / 1e6 / secs, sim: (s - sim) / secs });
    elu = performance.eventLoopUtilization();
    cpu = process.cpuUsage();
    sim = s;
    last = now;
  }, sliceMs);
  const connector = await startConnector(settings, { logger });
  try {
    t0 = performance.now();
    events.length = 0;
    slices.length = 0;
    const startCpu = process.cpuUsage();
    const s = await connector.sync({
      fullRepublish: false,
      onProgress: (p) => {
        if (events.at(-1)?.line !== `== phase ${p.phase}`)
          events.push({ t: performance.now(), line: `== phase ${p.phase}` });
      },
    });
    const wall = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(startCpu);
    const at = (t: number) => ((t - t0) / 1000).toFixed(2).padStart(7);
    const out: string[] = [];
    let k = 0;
    for (const sl of slices) {
      for (; k < events.length && events[k].t <= sl.t; k++) out.push(`${at(events[k].t)}  ${events[k].line}`);
      const bar = (x: number) => '#'.repeat(Math.round(Math.min(1, x) * 10)).padEnd(10, '.');
      out.push(`${at(sl.t)}  | loop ${bar(sl.elu)} cpu ${sl.cpu.toFixed(2)} | sim ${bar(sl.sim)} ${sl.sim.toFixed(2)}`);
    }
    for (; k < events.length; k++) out.push(`${at(events[k].t)}  ${events[k].line}`);
    const idle = slices.filter((x) => x.elu < 0.5).length * (sliceMs / 1000);
    out.push(
      `run ${s.status}: ${wall.toFixed(1)} s, connector CPU ${((used.user + used.system) / 1e6).toFixed(1)} s, ` +
        `slices under half busy ${idle.toFixed(1)} s, peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
    );
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    clearInterval(timer);
    await connector.close();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [settings, simPid, sliceMs] = process.argv.slice(3);
    return child(JSON.parse(settings) as ConnectorSettings, Number(simPid), Number(sliceMs));
  }
  const users = Number(arg('users', '100000'));
  const runs = Number(arg('runs', '1'));
  const changed = Number(arg('changed', '0.01'));
  const sliceMs = Number(arg('slice', '250'));
  const services = await ensureServices((line) => log(line));
  const { KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl } = services.endpoints;
  const kafka = new Kafka({ clientId: 'bench-routine-timeline', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const name = `benchtl-${Date.now().toString(36)}`;
  const roles: RoleProcess[] = [];
  let sim: SimHandle | undefined;
  try {
    sim = await spawnSimulator(users, users, new Date().toISOString(), { compiled: true, controllable: true });
    await admin.connect();
    const settings = benchSettings({
      name,
      simUrl: sim.url,
      credentials: sim.credentials,
      brokers,
      registryUrl,
      parallelPages: 3,
      partitions: 3,
    });
    await provisionTopics(admin, settings.topics, settings.topicSettings, silentLogger);
    for (const fullRepublish of [true, false]) {
      log(fullRepublish ? `first full run (${fmt(users)} users)…` : 'routine run, nothing changed…');
      const r = spawnRole('sync', { settings, fullRepublish });
      roles.push(r);
      const f = await r.next<SyncFigures>();
      if (f.status !== 'succeeded') throw new Error(`run failed: ${JSON.stringify(f.error)}`);
    }
    for (let i = 0; i < runs; i++) {
      const n = await sim.change(changed, 100 + i);
      log(`routine run ${i + 1}, ${fmt(n)} users changed`);
      await new Promise<void>((resolve, reject) => {
        const c = spawn(
          process.execPath,
          [
            ...IMAGE_NODE_ARGS,
            path.join(ROOT, 'dist/bench/routine-timeline.js'),
            '--child',
            JSON.stringify(settings),
            String(sim!.child.pid),
            String(sliceMs),
          ],
          { stdio: 'inherit', env: imageEnv() },
        );
        c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`timeline run exited ${code}`))));
      });
    }
  } finally {
    for (const r of roles) r.kill();
    await deleteBenchTopics(admin, name);
    await deleteBenchSubjects(registryUrl, name);
    await admin.disconnect();
    await sim?.stop();
    await stopServices(services.started);
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
