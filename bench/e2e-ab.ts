/**
 * The end-to-end first run alone (bench/pipeline.ts step 3), side by side: the sink started on
 * empty topics and empty tables (as the compose stack starts it, before the connector's first
 * run), then one full-republish sync; done when the sink's group has committed the end of both
 * topics. Sides A (another checkout's sink, e.g. the base) and B (this checkout's, or a tuning)
 * alternate A B A B on one simulator, each round into its own topics and tables.
 *
 *   node -r ts-node/register/transpile-only bench/e2e-ab.ts --users 150000 --logins 150000 --rounds 2 \
 *     --base /work/wt/s14-base \
 *     [--tuning-b '{"fetchMinBytes":0}']
 *
 * The sync (this checkout's connector) and the measurement are the same on both sides; only the
 * sink's code (sinks/ of --base, loaded by this checkout's sink role) or its tuning differs.
 * Per run: wall seconds (sync start → caught up), CPU seconds of the connector, the sink,
 * PostgreSQL, Kafka and the simulator (the servers' whole process trees: other work on a shared
 * machine counts too: quote the load average), the sink's batches (each one transaction) and its
 * CPU µs a row. Prints one JSON line a run and a table at the end. Run `npx tsc -p tsconfig.json`
 * first (the roles run from dist/).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { silentLogger } from '../kernel/logger';
import { provisionTopics } from '../kafka/topics';
import { ensureServices } from '../devstack/services';
import type { SinkFigures, SinkRoleSettings, SyncFigures } from './roles';
import {
  benchSettings,
  cpuSecondsOfTree,
  deleteBenchSubjects,
  deleteBenchTopics,
  spawnRole,
  spawnSimulator,
  serverPids,
  type RoleProcess,
} from './support';

interface Args {
  users: number;
  logins: number;
  rounds: number;
  base?: string;
  tuningA?: Record<string, unknown>;
  tuningB?: Record<string, unknown>;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { users: 150_000, logins: 150_000, rounds: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--users':
        a.users = Number(v);
        break;
      case '--logins':
        a.logins = Number(v);
        break;
      case '--rounds':
        a.rounds = Number(v);
        break;
      case '--base':
        a.base = v;
        break;
      case '--tuning-a':
        a.tuningA = JSON.parse(v) as Record<string, unknown>;
        break;
      case '--tuning-b':
        a.tuningB = JSON.parse(v) as Record<string, unknown>;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (a.users > 300_000) throw new Error('at most 300,000 users on this shared machine');
  return a;
}

interface RunFigures {
  side: string;
  round: number;
  /** Sync start → the tables whole (caught up, every declared index there). */
  wallSeconds: number;
  /** Sync start → the sink's group committed the end of both topics. */
  caughtUpSeconds: number;
  syncSeconds: number;
  load: number[];
  cpu: Record<string, number | null>;
  batches?: { count: number; records: number };
  sinkUsPerRow: number;
  sinkPeakRssMb: number;
  /** The sink's bulk-load lines and warnings, `at` in seconds from the sync's start. */
  events: { at: number; msg: string }[];
}

const log = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const services = await ensureServices((line) => log(line));
  const { KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl, DATABASE_URL: databaseUrl } = services.endpoints;
  const kafka = new Kafka({ clientId: 'bench-e2e-ab', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const db = new Client({ connectionString: databaseUrl });
  const p = `bench-ab-${Date.now().toString(36)}`;
  const roles: RoleProcess[] = [];
  const sim = await spawnSimulator(args.users, args.logins, new Date().toISOString(), { compiled: true });
  const runs: RunFigures[] = [];
  try {
    await admin.connect();
    await db.connect();
    const servers: Record<string, number> = { ...serverPids(services.started), simulator: sim.child.pid! };
    for (let round = 1; round <= args.rounds; round++) {
      for (const side of ['A', 'B'] as const) {
        const name = `${p}-${side.toLowerCase()}${round}`;
        const settings = benchSettings({
          name,
          simUrl: sim.url,
          credentials: sim.credentials,
          brokers,
          registryUrl,
          parallelPages: 3,
          partitions: 3,
        });
        const t = name.replace(/-/g, '_');
        const sinkSettings: SinkRoleSettings = {
          brokers,
          registryUrl,
          databaseUrl,
          groupId: `${name}-sink`,
          topics: { users: settings.topics.users, logins: settings.topics.logins, deadLetter: `${name}.sink-dlq` },
          tables: {
            users: { schema: 'public', name: `${t}_users` },
            logins: { schema: 'public', name: `${t}_logins` },
          },
          sinkRoot: side === 'A' ? args.base : undefined,
          tuning: side === 'A' ? args.tuningA : args.tuningB,
        };
        await provisionTopics(admin, settings.topics, settings.topicSettings, silentLogger);
        const sink = spawnRole('sink', sinkSettings);
        roles.push(sink);
        await sink.next();
        const sessions = sessionCpu(db, sinkSettings.groupId.slice(0, 63));
        const before = Object.fromEntries(Object.entries(servers).map(([k, pid]) => [k, cpuSecondsOfTree(pid)]));
        log(`round ${round} side ${side}: sync…`);
        const syncRole = spawnRole('sync', { settings, fullRepublish: true });
        roles.push(syncRole);
        const sync = await syncRole.next<SyncFigures>();
        if (sync.status !== 'succeeded') throw new Error(`the sync failed: ${JSON.stringify(sync.error)}`);
        sink.send('the topics are complete');
        const s = await sink.next<SinkFigures>();
        const sinkSessions = await sessions.stop();
        const after = Object.fromEntries(Object.entries(servers).map(([k, pid]) => [k, cpuSecondsOfTree(pid)]));
        if (s.rows.users !== args.users || s.rows.logins !== args.logins)
          throw new Error(`the tables hold ${s.rows.users} users, ${s.rows.logins} logins`);
        const cpu: Record<string, number | null> = { connector: sync.cpuSeconds, sink: s.cpuSeconds };
        for (const k of Object.keys(servers))
          cpu[k] = before[k] === null || after[k] === null ? null : +(after[k]! - before[k]!).toFixed(1);
        for (const k of ['connector', 'sink']) cpu[k] = +cpu[k]!.toFixed(1);
        cpu['PG sessions of the sink'] = +sinkSessions.toFixed(1);
        const rows = args.users + args.logins;
        const run: RunFigures = {
          side,
          round,
          wallSeconds: +(((s.indexedAt ?? s.caughtUpAt) - sync.startedAt) / 1000).toFixed(1),
          caughtUpSeconds: +((s.caughtUpAt - sync.startedAt) / 1000).toFixed(1),
          syncSeconds: +((sync.endedAt - sync.startedAt) / 1000).toFixed(1),
          load: os.loadavg().map((x) => +x.toFixed(2)),
          cpu,
          batches: s.batches,
          sinkUsPerRow: +((s.cpuSeconds * 1e6) / rows).toFixed(1),
          sinkPeakRssMb: s.peakRssMb,
          events: (s.events ?? []).map((e) => ({ ...e, at: +((e.at - sync.startedAt) / 1000).toFixed(1) })),
        };
        runs.push(run);
        process.stdout.write(JSON.stringify(run) + '\n');
        await db.query(`DROP TABLE IF EXISTS "${t}_users", "${t}_logins" CASCADE`).catch(() => undefined);
        await db.query(`DELETE FROM neurons_sink_offsets WHERE table_name LIKE $1`, [`${t}_%`]).catch(() => undefined);
        await deleteBenchTopics(admin, name);
        await deleteBenchSubjects(registryUrl, name);
      }
    }
    process.stdout.write(table(runs));
  } finally {
    for (const r of roles) r.kill();
    await sim.stop();
    await admin.disconnect().catch(() => undefined);
    await db.end().catch(() => undefined);
  }
}

/**
 * CPU seconds of the PostgreSQL sessions named `application` (the sink's pool) and their parallel
 * workers (an index build's), read from /proc every 500 ms while they live: the server's whole tree
 * counts every other user of a shared server too. A session's last < 500 ms may be missed.
 */
function sessionCpu(db: Client, application: string): { stop(): Promise<number> } {
  const seen = new Map<number, number>();
  let stopped = false;
  const sample = async () => {
    const { rows } = await db.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE application_name = $1 OR leader_pid IN ' +
        '(SELECT pid FROM pg_stat_activity WHERE application_name = $1)',
      [application],
    );
    for (const { pid } of rows) {
      try {
        const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
        seen.set(pid, (Number(f[11]) + Number(f[12])) / 100);
      } catch {
        // ended meanwhile
      }
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await sample().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    async stop() {
      await sample().catch(() => undefined);
      stopped = true;
      await loop;
      return [...seen.values()].reduce((a, b) => a + b, 0);
    },
  };
}

function table(runs: RunFigures[]): string {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.cpu)))];
  const head = [
    'run',
    'wall s',
    'caught up s',
    'sync s',
    ...keys.map((k) => `${k} CPU s`),
    'batches',
    'rows/batch',
    'sink µs/row',
    'load 1m',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of runs) {
    const b = r.batches;
    lines.push(
      `| ${r.side}${r.round} | ${r.wallSeconds} | ${r.caughtUpSeconds} | ${r.syncSeconds} | ` +
        `${keys.map((k) => r.cpu[k] ?? '-').join(' | ')} | ` +
        `${b?.count ?? '-'} | ${b ? Math.round(b.records / b.count) : '-'} | ${r.sinkUsPerRow} | ${r.load[0]} |`,
    );
  }
  return lines.join('\n') + '\n';
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
