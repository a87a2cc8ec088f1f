/**
 * The end-to-end first run alone (bench/pipeline.ts step 3), side by side: the sink started on
 * empty topics and empty tables (as the compose stack starts it, before the connector's first
 * run), then one full-republish sync; done when the sink's group has committed the end of both
 * topics. Sides A (another checkout's sink, e.g. the base) and B (this checkout's, or a tuning)
 * alternate A B A B on one simulator, each round into its own topics and tables.
 *
 *   node -r ts-node/register/transpile-only bench/e2e-ab.ts --users 150000 --logins 150000 --rounds 2 \
 *     --base /work/wt/s14-base \
 *     [--tuning-b '{"fetchMinBytes":0}'] [--reference] [--provision-streams]
 *
 * The sync (this checkout's connector) and the measurement are the same on both sides; only the
 * sink's code (sinks/ of --base, loaded by this checkout's sink role) or its tuning differs.
 * Per run: wall seconds (sync start → caught up), CPU seconds of the connector, the sink,
 * PostgreSQL, Kafka and the simulator (the servers' whole process trees: other work on a shared
 * machine counts too: quote the load average), the sink's batches (each one transaction) and its
 * CPU µs a row. Prints one JSON line a run and a table at the end. Run `npx tsc -p tsconfig.json`
 * first (the roles run from dist/).
 *
 * Session 15: PostgreSQL's CPU by process role (pgCpu: the sink's sessions, autovacuum's VACUUM and
 * ANALYZE by table, checkpointer, walwriter, io workers, other sessions), its WAL, checkpoint and
 * transaction counters and each table's pg_stat_user_tables, in each run's JSON line (`pg`). Every
 * declared stream has the run's own topic and table (a real first start's tables). --reference:
 * after each run, PostgreSQL's own COPY of its users and login rows (copyReference, primary key
 * kept): that session's CPU, seconds and WAL. --provision-streams: the declared streams' topics
 * exist before the sink starts (the connector came first); without it only users' and logins' do.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { silentLogger } from '../kernel/logger';
import { copyReference } from './reference';
import { provisionTopics } from '../kafka/topics';
import { ensureServices } from '../devstack/services';
import { GENERIC_STREAMS } from '../schemas/streams/generic';
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
  reference?: boolean;
  provisionStreams?: boolean;
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
      case '--provision-streams':
        a.provisionStreams = true;
        i--;
        break;
      case '--reference':
        a.reference = true;
        i--;
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
  /** PostgreSQL during the run: CPU by process role (pgCpu), autovacuum seen, counters' differences. */
  pg: {
    cpu: Record<string, number>;
    autovacuum: { at: number; what: string }[];
    counters: Record<string, number>;
    tables: Record<string, Record<string, number | string | null>>;
  };
  /** --reference: PostgreSQL's own COPY of the run's rows (CPU of its session, seconds, WAL). */
  reference?: Record<string, number>;
}

/** CPU seconds this session's PostgreSQL backend has used (/proc: the server runs on this machine). */
async function backendCpu(db: Client): Promise<number> {
  const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const text = fs.readFileSync(`/proc/${rows[0].pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The bench table of a declared stream other than users and logins (its name's dashes as underscores). */
const streamTable = (prefix: string, stream: string) => `${prefix}_${stream.replace(/-/g, '_')}`.slice(0, 63);

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
          // Every declared stream gets this run's topic and table, as a real first start has them: a
          // table of the shared defaults (neurons_user_licenses…) holds offsets of earlier runs, and
          // then no table of this sink is in its first start (bulk.ts beginBulk: no live load).
          topics: {
            users: settings.topics.users,
            logins: settings.topics.logins,
            deadLetter: `${name}.sink-dlq`,
            ...settings.topics.streams,
          },
          tables: {
            users: { schema: 'public', name: `${t}_users` },
            logins: { schema: 'public', name: `${t}_logins` },
            ...Object.fromEntries(
              GENERIC_STREAMS.map((d) => [d.name, { schema: 'public', name: streamTable(t, d.name) }]),
            ),
          },
          sinkRoot: side === 'A' ? args.base : undefined,
          tuning: side === 'A' ? args.tuningA : args.tuningB,
        };
        // --provision-streams: the declared streams' topics exist before the sink starts too (the
        // connector ran first), else the sink starts on users and logins only, as when it comes first.
        const streamTopics = args.provisionStreams
          ? GENERIC_STREAMS.map((d) => ({ name: settings.topics.streams![d.name]!, ...d.topic }))
          : [];
        await provisionTopics(admin, settings.topics, settings.topicSettings, silentLogger, streamTopics);
        const sink = spawnRole('sink', sinkSettings);
        roles.push(sink);
        await sink.next();
        let syncStart = Date.now();
        const pg = pgCpu(
          db,
          servers.PostgreSQL,
          sinkSettings.groupId.slice(0, 63),
          () => (Date.now() - syncStart) / 1000,
        );
        const countersBefore = await pgCounters(db);
        const offsetsBefore = await tableStats(db, 'neurons_sink_offsets');
        const before = Object.fromEntries(Object.entries(servers).map(([k, pid]) => [k, cpuSecondsOfTree(pid)]));
        log(`round ${round} side ${side}: sync…`);
        syncStart = Date.now();
        const syncRole = spawnRole('sync', { settings, fullRepublish: true });
        roles.push(syncRole);
        const sync = await syncRole.next<SyncFigures>();
        if (sync.status !== 'succeeded') throw new Error(`the sync failed: ${JSON.stringify(sync.error)}`);
        sink.send('the topics are complete');
        const s = await sink.next<SinkFigures>();
        const pgFigures = await pg.stop();
        const after = Object.fromEntries(Object.entries(servers).map(([k, pid]) => [k, cpuSecondsOfTree(pid)]));
        await new Promise((r) => setTimeout(r, 1000)); // backends flush their statistics at most once a second
        const countersAfter = await pgCounters(db);
        const counters: Record<string, number> = {};
        for (const k of Object.keys(countersAfter)) counters[k] = countersAfter[k] - countersBefore[k];
        const offsetsAfter = await tableStats(db, 'neurons_sink_offsets');
        const tables = {
          users: await tableStats(db, `${t}_users`),
          logins: await tableStats(db, `${t}_logins`),
          offsets: Object.fromEntries(
            Object.keys(offsetsAfter).map((k) => [k, Number(offsetsAfter[k]) - Number(offsetsBefore[k] ?? 0)]),
          ),
        };
        if (s.rows.users !== args.users || s.rows.logins !== args.logins)
          throw new Error(`the tables hold ${s.rows.users} users, ${s.rows.logins} logins`);
        const cpu: Record<string, number | null> = { connector: sync.cpuSeconds, sink: s.cpuSeconds };
        for (const k of Object.keys(servers))
          cpu[k] = before[k] === null || after[k] === null ? null : +(after[k]! - before[k]!).toFixed(1);
        for (const k of ['connector', 'sink']) cpu[k] = +cpu[k]!.toFixed(1);
        cpu['PG sessions of the sink'] = +(pgFigures.cpu['sink sessions'] ?? 0).toFixed(1);
        const autovacuumCpu = Object.entries(pgFigures.cpu)
          .filter(([k]) => k.startsWith('autovacuum '))
          .reduce((n, [, v]) => n + v, 0);
        cpu['PG autovacuum'] = +autovacuumCpu.toFixed(1);
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
          pg: { cpu: pgFigures.cpu, autovacuum: pgFigures.autovacuum, counters, tables },
        };
        if (args.reference) {
          // PostgreSQL's own COPY of the same rows (reference.ts copyReference, with the primary key a
          // bulk load keeps): this bench session's CPU and the WAL it wrote, for the sink's figures above.
          const ref: Record<string, number> = {};
          for (const kind of ['users', 'logins'] as const) {
            const walBefore = (await pgCounters(db)).wal_bytes;
            const cpuBefore = await backendCpu(db);
            const r = await copyReference(db, `public."${t}_${kind}"`, `public."${t}_${kind}_ref"`, {
              primaryKey: true,
            });
            ref[`${kind} CPU s`] = +((await backendCpu(db)) - cpuBefore).toFixed(2);
            ref[`${kind} COPY s`] = +r.seconds.toFixed(2);
            ref[`${kind} WAL MB`] = +(((await pgCounters(db)).wal_bytes - walBefore) / 1e6).toFixed(1);
            await db.query(`DROP TABLE public."${t}_${kind}_ref"`);
          }
          run.reference = ref;
        }
        runs.push(run);
        process.stdout.write(JSON.stringify(run) + '\n');
        const generic = GENERIC_STREAMS.map((d) => `, "${streamTable(t, d.name)}"`).join('');
        await db.query(`DROP TABLE IF EXISTS "${t}_users", "${t}_logins"${generic} CASCADE`).catch(() => undefined);
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
 * CPU seconds of every PostgreSQL process during a run, by role: the sessions named `application`
 * (the sink's pool) and their parallel workers (an index build's), autovacuum workers (split by
 * what they were doing: VACUUM or ANALYZE of which table), the checkpointer, walwriter, background
 * writer, io workers, other sessions (other engineers' tests, this bench's own queries) and what
 * ended unseen (the server tree's total, cutime included, minus the rest). Read from /proc and
 * pg_stat_activity every 250 ms; each sample's CPU since the last one goes to what the process was
 * doing at that sample. Also: autovacuum's actions seen (table, VACUUM/ANALYZE, first seen).
 */
function pgCpu(
  db: Client,
  root: number | undefined,
  application: string,
  t0: () => number,
): { stop(): Promise<{ cpu: Record<string, number>; autovacuum: { at: number; what: string }[] }> } {
  const ticks = (pid: number): number | undefined => {
    try {
      const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      return Number(f[11]) + Number(f[12]);
    } catch {
      return undefined;
    }
  };
  const children = (): number[] => {
    const out: number[] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const text = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]) === root) out.push(Number(entry));
      } catch {
        // ended
      }
    }
    return out;
  };
  const last = new Map<number, number>();
  const by: Record<string, number> = {};
  const seenAv = new Map<string, number>();
  const treeBefore = root === undefined ? null : cpuSecondsOfTree(root);
  // The baseline: what each live process had used before the run.
  for (const pid of root === undefined ? [] : [root, ...children()]) {
    const t = ticks(pid);
    if (t !== undefined) last.set(pid, t);
  }
  let stopped = false;
  const sample = async () => {
    if (root === undefined) return;
    const { rows } = await db.query<{ pid: number; app: string; type: string; query: string; leader: number | null }>(
      'SELECT pid, application_name AS app, backend_type AS type, query, leader_pid AS leader FROM pg_stat_activity',
    );
    const act = new Map(rows.map((r) => [r.pid, r]));
    // What an autovacuum worker is doing now: its VACUUM ANALYZE is a vacuum, then an analyze.
    const { rows: progress } = await db.query<{ pid: number; phase: string }>(
      "SELECT pid, 'VACUUM' AS phase FROM pg_stat_progress_vacuum UNION ALL " +
        "SELECT pid, 'ANALYZE' AS phase FROM pg_stat_progress_analyze",
    );
    const phase = new Map(progress.map((r) => [r.pid, r.phase]));
    const sinkPids = new Set(rows.filter((r) => r.app === application).map((r) => r.pid));
    for (const pid of [root, ...children()]) {
      const t = ticks(pid);
      if (t === undefined) continue;
      const delta = (t - (last.get(pid) ?? 0)) / 100;
      last.set(pid, t);
      const a = act.get(pid);
      let kind: string;
      if (pid === root) kind = 'postmaster';
      else if (a && (sinkPids.has(pid) || (a.leader !== null && sinkPids.has(a.leader)))) kind = 'sink sessions';
      else if (a?.type === 'autovacuum worker') {
        const what = /autovacuum: (VACUUM ANALYZE|VACUUM|ANALYZE) (\S+)/.exec(a.query);
        const table = what?.[2].replace(/^public\.bench_ab_\w+?_([ab]\d+_)/, '$1');
        kind = what ? `autovacuum ${phase.get(pid) ?? what[1]} ${table}` : 'autovacuum idle';
        if (what && !seenAv.has(`${what[1]} ${what[2]}`)) seenAv.set(`${what[1]} ${what[2]}`, t0());
      } else if (a?.type === 'client backend') kind = 'other sessions';
      else if (a) kind = a.type;
      else kind = 'unknown (ended)';
      if (delta > 0) by[kind] = (by[kind] ?? 0) + delta;
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await sample().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      await sample().catch(() => undefined);
      stopped = true;
      await loop;
      const cpu: Record<string, number> = {};
      for (const [k, v] of Object.entries(by).sort((a, b) => b[1] - a[1])) cpu[k] = +v.toFixed(2);
      const treeAfter = root === undefined ? null : cpuSecondsOfTree(root);
      if (treeBefore !== null && treeAfter !== null) {
        const total = treeAfter - treeBefore;
        cpu['(tree total)'] = +total.toFixed(2);
        cpu['(ended unseen)'] = +(total - Object.values(by).reduce((x, y) => x + y, 0)).toFixed(2);
      }
      return { cpu, autovacuum: [...seenAv].map(([what, at]) => ({ at: +at.toFixed(1), what })) };
    },
  };
}

/** Server-wide PostgreSQL counters (WAL, checkpoints, the database's transactions), for a before/after difference. */
async function pgCounters(db: Client): Promise<Record<string, number>> {
  const one = async (sql: string) => (await db.query<Record<string, string>>(sql)).rows[0];
  const wal = await one('SELECT wal_records, wal_fpi, wal_bytes, wal_buffers_full FROM pg_stat_wal');
  const cp = await one(
    'SELECT num_timed, num_requested, buffers_written AS cp_buffers_written FROM pg_stat_checkpointer',
  );
  const bg = await one('SELECT buffers_clean AS bgwriter_buffers_clean FROM pg_stat_bgwriter');
  const d = await one(
    'SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, blks_read, blks_hit, temp_bytes ' +
      'FROM pg_stat_database WHERE datname = current_database()',
  );
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries({ ...wal, ...cp, ...bg, ...d })) out[k] = Number(v);
  return out;
}

/** pg_stat_user_tables of a bench table: inserts, updates, autovacuum/analyze counts. */
async function tableStats(db: Client, table: string): Promise<Record<string, number | string | null>> {
  const { rows } = await db.query<Record<string, string | null>>(
    'SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, n_live_tup, n_dead_tup, vacuum_count, autovacuum_count, ' +
      'analyze_count, autoanalyze_count, pg_total_relation_size(relid) AS bytes ' +
      'FROM pg_stat_user_tables WHERE relname = $1',
    [table],
  );
  const out: Record<string, number | string | null> = {};
  for (const [k, v] of Object.entries(rows[0] ?? {})) out[k] = v === null ? null : Number(v);
  return out;
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
