/**
 * The connector's own cost (a command, not a test): memory and CPU of its runs, without the sink.
 * The simulator and each run are processes of their own (the runs from dist/, as production runs).
 *
 *   node -r ts-node/register/transpile-only bench/connector.ts --users 100000 [--logins N] [--changed 0.01]
 *     [--no-build] [--compression gzip|zstd|none] [--full-only] [--first-root DIR]
 *
 * Four runs of one connector: the first full run (every user published, no index yet, so every
 * user's index entry goes into the commit transaction), a routine run (nothing changed: the live
 * users from the index), a routine run after 1 % of the users changed in the org, and a rebuild
 * (the index topic deleted: the live users from the whole users topic, and every user's entry
 * written again in the commit). Per run it prints the peak
 * RSS and what the heap and the off-heap buffers held at that peak, the CPU per user, and how long
 * the commit transaction (tombstones, index entries, watermark) took. BENCH_NODE_ARGS passes
 * flags to the runs' node (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 *
 * --first-root DIR: the first full run is another checkout's build (DIR/dist, e.g. the code before an
 * upgrade) and the other runs this one's: an upgrade. The routine run in which nothing changed must then
 * publish (almost) no user: a change of the content hash's form must not publish everyone again. Every
 * run then reads every user (usersFullScanEveryMs 0), so every stored digest is compared.
 */
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { silentLogger } from '../kernel/logger';
import { indexTopicOf } from '../pipeline/kafka/live-index';
import { provisionTopics } from '../kafka/topics';
import { DEFAULT_PUBLISHER, type Compression } from '../pipeline/kafka/publisher';
import { ensureServices, stopServices } from '../devstack/services';
import type { SyncFigures } from './roles';
import {
  deleteBenchSubjects,
  deleteBenchTopics,
  fmt,
  ROOT,
  runChild,
  spawnRole,
  roleRuntime,
  spawnSimulator,
  type RoleProcess,
  type SimHandle,
  benchSettings,
} from './support';

const log = (line: string) => process.stderr.write(`[bench:connector] ${line}\n`);

interface Args {
  users: number;
  logins: number;
  build: boolean;
  changed: number;
  /** the publisher's compression (default: the connector's default) */
  compression: Compression;
  /** the first full run alone (a CPU comparison) */
  fullOnly: boolean;
  /** another checkout whose build makes the first full run (an upgrade), or null */
  firstRoot: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    users: 100_000,
    logins: -1,
    build: true,
    changed: 0.01,
    compression: DEFAULT_PUBLISHER.compression,
    fullOnly: false,
    firstRoot: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--no-build') a.build = false;
    else if (flag === '--full-only') a.fullOnly = true;
    else if (flag === '--first-root') {
      if (!value) throw new Error('--first-root needs a checkout directory (with dist/ built)');
      a.firstRoot = value;
      i++;
    } else if (flag === '--compression') {
      if (value !== 'gzip' && value !== 'zstd' && value !== 'none')
        throw new Error(`--compression is gzip, zstd or none; got ${value}`);
      a.compression = value;
      i++;
    } else if (flag === '--changed') {
      a.changed = Number(value);
      if (!(a.changed > 0 && a.changed <= 1)) throw new Error(`--changed is a share in (0, 1]; got ${value}`);
      i++;
    } else if (flag === '--users' || flag === '--logins') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a whole number above 0; got ${value}`);
      a[flag === '--users' ? 'users' : 'logins'] = n;
      i++;
    } else
      throw new Error(
        `unknown option ${flag}; options: --users N --logins N --changed SHARE --no-build ` +
          `--compression gzip|zstd|none --full-only --first-root DIR`,
      );
  }
  if (a.logins < 0) a.logins = a.users; // one login event per user, as the 1M bench
  return a;
}

interface RunFigures {
  run: string;
  seconds: number;
  peakRssMb: number;
  atPeak: SyncFigures['atPeakMb'];
  procAtPeak: SyncFigures['procAtPeakMb'];
  liveHeap: SyncFigures['maxHeapAfterMajorGcMb'];
  cpuSeconds: number;
  cpuPerUserUs: number;
  commitSeconds: number;
  published: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  log(`the runs go from dist/, with ${roleRuntime()}`);
  if (args.build) {
    log('building…');
    await runChild(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  }
  const services = await ensureServices((line) => log(line));
  const { KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl } = services.endpoints;
  const kafka = new Kafka({ clientId: 'bench-connector', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const name = `benchc-${Date.now().toString(36)}`;
  const roles: RoleProcess[] = [];
  let sim: SimHandle | undefined;
  try {
    log(`simulator: ${fmt(args.users)} users, ${fmt(args.logins)} login events…`);
    sim = await spawnSimulator(args.users, args.logins, new Date().toISOString(), {
      compiled: true,
      controllable: true,
    });
    await admin.connect();
    const benchDefaults = benchSettings({
      name,
      simUrl: sim.url,
      credentials: sim.credentials,
      brokers,
      registryUrl,
      parallelPages: 3,
      partitions: 3,
      publisher: { ...DEFAULT_PUBLISHER, compression: args.compression },
    });
    // An upgrade reads every user in every run (no incremental read): each user's stored digest is compared.
    const settings = args.firstRoot
      ? { ...benchDefaults, salesforce: { ...benchDefaults.salesforce, usersFullScanEveryMs: 0 } }
      : benchDefaults;
    await provisionTopics(admin, settings.topics, settings.topicSettings, silentLogger);
    const results: RunFigures[] = [];
    const run = async (label: string, fullRepublish: boolean, root?: string) => {
      log(`${label}…`);
      const r = spawnRole('sync', { settings, fullRepublish }, root);
      roles.push(r);
      const f = await r.next<SyncFigures>();
      if (f.status !== 'succeeded') throw new Error(`${label} failed: ${JSON.stringify(f.error)}`);
      results.push({
        run: label,
        seconds: (f.endedAt - f.startedAt) / 1000,
        peakRssMb: f.peakRssMb,
        atPeak: f.atPeakMb,
        procAtPeak: f.procAtPeakMb,
        liveHeap: f.maxHeapAfterMajorGcMb,
        cpuSeconds: f.cpuSeconds,
        cpuPerUserUs: (f.cpuSeconds * 1e6) / args.users,
        commitSeconds: f.phases.deletions === undefined ? NaN : (f.endedAt - f.phases.deletions) / 1000,
        published: f.usersPublished,
      });
      // where the run's time went: start (lock, index load) → logins → users and streams → commit
      const at = [f.startedAt, f.phases.logins, f.phases.users, f.phases.deletions, f.endedAt];
      const secs = at.slice(1).map((t, i) => (t === undefined || at[i] === undefined ? NaN : (t - at[i]!) / 1000));
      log(`  phases s: start ${secs[0]}, logins ${secs[1]}, users + streams ${secs[2]}, commit ${secs[3]}`);
      log(`  ${JSON.stringify(results[results.length - 1])}`);
    };
    await run(
      `first full run (${args.compression})${args.firstRoot ? `, ${args.firstRoot}'s build` : ''}`,
      true,
      args.firstRoot ?? undefined,
    );
    if (args.fullOnly) {
      await roles[0]?.exited(); // its --cpu-prof profile, if asked for, is written as it exits
      process.stdout.write(`\n${JSON.stringify(results[0])}\n`);
      return;
    }
    await run('routine run, nothing changed', false);
    // An old digest that starts with the new one's mark ('_2', pipeline/records.ts) is taken for a new one:
    // that user, 1 in 4,096, is published once more. More than 4x that is the upgrade publishing users again.
    const republished = results[results.length - 1].published;
    if (args.firstRoot)
      log(`  after the upgrade: ${republished} users published again (~${fmt(args.users / 4096)} expected)`);
    if (args.firstRoot && republished > Math.ceil((args.users / 4096) * 4) + 4)
      throw new Error(
        `after the upgrade from ${args.firstRoot}, nothing changed and ${republished} users were published`,
      );
    // the issue's routine run: 1 % (--changed) of the users changed in the org since the last run
    const changed = await sim.change(args.changed, 1);
    await run(`routine run, ${fmt(changed)} users changed`, false);
    if (results[results.length - 1].published !== changed)
      throw new Error(
        `the changed run should publish the ${changed} changed users, not ${results[results.length - 1].published}`,
      );
    await admin.deleteTopics({ topics: [indexTopicOf(settings.topics.users)] });
    await waitGone(admin, indexTopicOf(settings.topics.users));
    await run('rebuild (index deleted), nothing changed', false);

    const rows = results.map(
      (r) =>
        `| ${r.run} | ${r.seconds.toFixed(1)} | ${r.peakRssMb} | ${r.atPeak.heapUsed} / ${r.atPeak.heapTotal} | ` +
        `${r.atPeak.arrayBuffers} | ${r.cpuSeconds.toFixed(1)} | ${r.cpuPerUserUs.toFixed(0)} | ` +
        `${r.commitSeconds.toFixed(1)} |`,
    );
    // The kernel's split at the peak: what V8's heap and the ArrayBuffers leave unexplained is native.
    const split = results.map((r) => {
      const p = r.procAtPeak;
      if (!p) return `| ${r.run} | (no /proc) |`;
      const native = p.rssAnon - r.atPeak.heapTotal - r.atPeak.arrayBuffers;
      return (
        `| ${r.run} | ${p.phase} | ${p.rssAnon} | ${p.rssFile} | ${p.brkHeap} | ` +
        `${p.threadArenas} (${p.threadArenaCount}) | ${p.largeAnon} | ${p.otherAnon} | ${native} | ${r.liveHeap} | ` +
        `${Object.entries(p.v8Spaces ?? {})
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} |`
      );
    });
    process.stdout.write(
      [
        ``,
        `connector, ${fmt(args.users)} users + ${fmt(args.logins)} login events (node ${process.version})`,
        ``,
        `| run | s | peak RSS MB | heap used / total at peak MB | array buffers at peak MB | CPU s | ` +
          `CPU µs/user | commit s |`,
        `|---|---:|---:|---:|---:|---:|---:|---:|`,
        ...rows,
        ``,
        `| run | phase at peak | anon MB | file MB | brk heap MB | thread arenas MB (n) | other anon ≥ 1 MiB MB | ` +
          `other anon MB | anon − heap − array buffers MB | max heap after a major GC MB | V8 spaces MB |`,
        `|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|`,
        ...split,
        ``,
      ].join('\n'),
    );
  } finally {
    for (const r of roles) r.kill();
    await deleteBenchTopics(admin, name);
    await deleteBenchSubjects(registryUrl, name);
    await admin.disconnect();
    await sim?.stop();
    await stopServices(services.started);
  }
}

async function waitGone(admin: ReturnType<Kafka['admin']>, topic: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await admin.listTopics()).includes(topic)) {
    if (Date.now() > deadline) throw new Error(`topic ${topic} still listed 60 s after its deletion`);
    await new Promise((r) => setTimeout(r, 200)); // polling the broker's metadata, not a readiness guess
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
