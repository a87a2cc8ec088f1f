/**
 * Routine runs of two builds side by side (a before/after comparison on one org and one set of
 * topics): one first full run, then rounds in which 1 % (--changed) of the users change in the
 * org and each build runs once, the order alternating (A B, B A, …) so the machine's load falls
 * on both alike. Each root is a checkout built with `tsc -p tsconfig.json` (its dist/). The runs
 * get the image's flags (bench/image-flags.ts: --max-semi-space-size=4 and glibc's malloc
 * variables), so their peak RSS is the product's; BENCH_NODE_ARGS adds flags (e.g. --cpu-prof).
 *
 *   node -r ts-node/register/transpile-only bench/routine-ab.ts --users 300000 --rounds 3 \
 *     --roots /work/wt/base,/work/wt/mine [--changed 0.01] [--own-sims]
 *
 * --own-sims: each build runs against its own simulator, started from its own checkout, with its
 * own topics (two identical orgs, the same users changed in both before each round), so a change
 * of the simulator shows beside the connector's. Without it both builds share this checkout's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { silentLogger } from '../kernel/logger';
import { provisionTopics } from '../kafka/topics';
import { ensureServices, stopServices } from '../devstack/services';
import type { SyncFigures } from './roles';
import {
  benchSettings,
  deleteBenchSubjects,
  deleteBenchTopics,
  fmt,
  spawnRole,
  spawnSimulator,
  type RoleProcess,
  type SimHandle,
} from './support';

const log = (line: string) => process.stderr.write(`[bench:routine-ab] ${line}\n`);

function parseArgs(argv: string[]) {
  const a = { users: 300_000, rounds: 3, changed: 0.01, roots: [] as string[], ownSims: false };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--own-sims') {
      a.ownSims = true;
      i--;
    } else if (flag === '--users') a.users = Number(value);
    else if (flag === '--rounds') a.rounds = Number(value);
    else if (flag === '--changed') a.changed = Number(value);
    else if (flag === '--roots') a.roots = value.split(',').map((r) => path.resolve(r));
    else
      throw new Error(`unknown option ${flag}; options: --users N --rounds N --changed SHARE --roots A,B [--own-sims]`);
  }
  if (a.roots.length !== 2) throw new Error('--roots takes two checkouts: before,after');
  return a;
}

interface Figures {
  root: string;
  seconds: number;
  start: number;
  logins: number;
  users: number;
  commit: number;
  cpu: number;
  peakRssMb: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const services = await ensureServices((line) => log(line));
  const { KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl } = services.endpoints;
  const kafka = new Kafka({ clientId: 'bench-routine-ab', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const name = `benchab-${Date.now().toString(36)}`;
  const roles: RoleProcess[] = [];
  const sims: SimHandle[] = [];
  const checkpointDirs: string[] = [];
  try {
    await admin.connect();
    /** One org and its topics: a simulator (from `simRoot`'s build) and the settings of a connector on it. */
    const orgFor = async (simRoot: string | undefined, suffix: string) => {
      const sim = await spawnSimulator(args.users, args.users, new Date().toISOString(), {
        compiled: true,
        controllable: true,
        ...(simRoot ? { root: simRoot } : {}),
      });
      sims.push(sim);
      const settings = benchSettings({
        name: `${name}${suffix}`,
        simUrl: sim.url,
        credentials: sim.credentials,
        brokers,
        registryUrl,
        parallelPages: 3,
        partitions: 3,
        // as the compose stack runs it (a build before the checkpoints ignores the setting)
        indexCheckpointDir: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ab-checkpoints-')),
      });
      checkpointDirs.push(settings.indexCheckpointDir!);
      await provisionTopics(admin, settings.topics, settings.topicSettings, silentLogger);
      return { sim, settings };
    };
    const orgs = args.ownSims
      ? await Promise.all(args.roots.map((root, i) => orgFor(root, `-${i}`)))
      : await orgFor(undefined, '').then((o) => [o, o]);
    const run = async (root: string, fullRepublish: boolean): Promise<Figures> => {
      const { settings } = orgs[args.roots.indexOf(root)];
      const r = spawnRole('sync', { settings, fullRepublish }, root);
      roles.push(r);
      const f = await r.next<SyncFigures>();
      if (f.status !== 'succeeded') throw new Error(`${root} failed: ${JSON.stringify(f.error)}`);
      const at = [f.startedAt, f.phases.logins, f.phases.users, f.phases.deletions, f.endedAt];
      const secs = at.slice(1).map((t, i) => (t === undefined || at[i] === undefined ? NaN : (t - at[i]!) / 1000));
      return {
        root,
        seconds: (f.endedAt - f.startedAt) / 1000,
        start: secs[0],
        logins: secs[1],
        users: secs[2],
        commit: secs[3],
        cpu: f.cpuSeconds,
        peakRssMb: f.peakRssMb,
      };
    };
    // the first full run, then a routine run with nothing changed: each build starts from it
    for (const root of args.ownSims ? args.roots : [args.roots[0]]) {
      log(`first full run (${fmt(args.users)} users, ${path.basename(root)})…`);
      await run(root, true);
      await run(root, false);
    }
    const results: Figures[] = [];
    for (let round = 0; round < args.rounds; round++) {
      const order = round % 2 === 0 ? args.roots : [...args.roots].reverse();
      for (const root of order) {
        // the same users changed in each org (the same seed) before its build's run
        const seed = 100 + (args.ownSims ? round : results.length);
        const changed = await orgs[args.roots.indexOf(root)].sim.change(args.changed, seed);
        const f = await run(root, false);
        results.push(f);
        log(`round ${round + 1}, ${path.basename(root)}, ${fmt(changed)} changed: ${JSON.stringify(f)}`);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const rows = args.roots.map((root) => {
      const mine = results.filter((r) => r.root === root);
      const m = (k: keyof Omit<Figures, 'root'>) => median(mine.map((r) => r[k])).toFixed(1);
      return (
        `| ${path.basename(root)} | ${mine.map((r) => r.seconds.toFixed(1)).join(' / ')} | ${m('seconds')} | ` +
        `${m('start')} | ${m('logins')} | ${m('users')} | ${m('commit')} | ${m('cpu')} | ${m('peakRssMb')} |`
      );
    });
    process.stdout.write(
      [
        ``,
        `routine runs, ${fmt(args.users)} users, ${args.changed * 100} % changed before each run, ` +
          `${args.rounds} rounds (order alternating)`,
        ``,
        `| build | s (each run) | median s | start | logins | users + streams | commit | CPU s | peak RSS MB |`,
        `|---|---|---:|---:|---:|---:|---:|---:|---:|`,
        ...rows,
        ``,
      ].join('\n'),
    );
  } finally {
    for (const r of roles) r.kill();
    await deleteBenchTopics(admin, name);
    await deleteBenchSubjects(registryUrl, name);
    await admin.disconnect();
    for (const sim of sims) await sim.stop();
    for (const dir of checkpointDirs) fs.rmSync(dir, { recursive: true, force: true });
    await stopServices(services.started);
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
