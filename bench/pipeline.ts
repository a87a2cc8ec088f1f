/**
 * The pipeline benchmark (a command, not a test): a simulated org of N users and M login events
 * from the Salesforce simulator through Kafka into PostgreSQL, with every reference point
 * measured on the same servers in the same run.
 *
 *   npm run bench                                   # 200,000 users, 1,000,000 login events
 *   npm run bench -- --users 1000000 --logins 5000000 [--compression none|gzip] [--out DIR]
 *
 * Builds the project (the connector's processes run from dist/, as in production), starts the
 * local servers that are not running (devstack) and stops what it started. Processes:
 * the simulator, and one process per measured role (bench/roles.ts). In order:
 *   1. plain read     the extractor's two Bulk queries, pages read raw: the reference for extract
 *   2. extract        sim → extractor → stages → Avro, no Kafka: extract rate and transform+encode rate
 *   3. end to end     the sink running, then one full-republish sync; done when the sink's group
 *                     has committed the end of both topics; then a second, routine run (nothing
 *                     changed: the live users come from the compact index), and a third after
 *                     1 % of the users changed in the org
 *   4. sink alone     a second sink group over the full topics, into new tables
 *   5. COPY           the rows of the end-to-end tables, COPY'd into unindexed tables; and
 *                     PostgreSQL's own upsert of them (staging COPY + INSERT … ON CONFLICT)
 *   6. produce        our publisher with real encoded records, then ProducerPerformance, same
 *                     count and size, for users and for login events
 * Then the floor of this machine per kind (users, login events): the slowest of the plain read,
 * ProducerPerformance and COPY, all measured above, and the end-to-end rate's ratio to it.
 * Writes pipeline-<users>-users-<logins>-logins.json and .md into the output folder (default
 * bench/results) and redraws pipeline.svg there from every result file in it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import type { ConnectorSettings } from '../pipeline/connector';
import { silentLogger } from '../kernel/logger';
import { DEFAULT_PUBLISHER, type PublisherOptions } from '../pipeline/kafka/publisher';
import { createTopicsReady, provisionTopics } from '../kafka/topics';
import { isDistCurrent } from '../devstack/build-stamp';
import { ensureServices, stopServices } from '../devstack/services';
import { GENERIC_STREAMS } from '../schemas/streams/generic';
import { copyReference, producerPerformance, upsertReference } from './reference';
import { chartFromResults, markdown, resultFile, type BenchResult, type FloorFigure, type StageFigure } from './report';
import type {
  ExtractFigures,
  PlainReadFigures,
  ProduceFigures,
  SinkFigures,
  SinkRoleSettings,
  SyncFigures,
} from './roles';
import {
  cpuSecondsOfTree,
  deleteBenchSubjects,
  deleteBenchTopics,
  fmt,
  peakRssOfPid,
  ROOT,
  runChild,
  spawnRole,
  roleRuntime,
  spawnSimulator,
  type RoleProcess,
  type SimHandle,
  benchSettings,
  serverPids,
} from './support';

const PARTITIONS = 3;
const PARALLEL_PAGES = 3;

interface Args {
  users: number;
  logins: number;
  compression: PublisherOptions['compression'];
  out: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    users: 200_000,
    logins: 1_000_000,
    compression: DEFAULT_PUBLISHER.compression,
    out: path.join(ROOT, 'bench', 'results'),
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--users' || flag === '--logins') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > (flag === '--users' ? 1_000_000 : 5_000_000))
        throw new Error(
          `${flag} must be a whole number from 1 to ${flag === '--users' ? '1000000' : '5000000'}; got ${value}`,
        );
      args[flag === '--users' ? 'users' : 'logins'] = n;
    } else if (flag === '--compression') {
      if (value !== 'none' && value !== 'gzip') throw new Error(`--compression must be none or gzip; got ${value}`);
      args.compression = value;
    } else if (flag === '--out') args.out = path.resolve(value);
    else throw new Error(`unknown option ${flag}; options: --users N --logins N --compression none|gzip --out DIR`);
  }
  return args;
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const rate = (records: number, seconds: number) => Math.round(records / Math.max(seconds, 1e-9));
/** Where a sync run's time went: from its start to the logins phase, then each phase (seconds). */
const phaseSplit = (f: SyncFigures): string => {
  const p = f.phases;
  const s = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined ? ((b - a) / 1000).toFixed(1) : '?';
  return (
    `start ${s(f.startedAt, p.logins)} s, logins ${s(p.logins, p.users)} s, users ${s(p.users, p.deletions)} s, ` +
    `deletions + commit ${s(p.deletions, f.endedAt)} s; the users read itself ` +
    `${((f.usersRead?.durationMs ?? NaN) / 1000).toFixed(1)} s`
  );
};

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (isDistCurrent(ROOT)) log(`dist/ is a build of these sources (npm run build): the processes run from it`);
  else {
    log(`building (the measured processes run from dist/, with ${roleRuntime()})…`);
    await runChild(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  }
  const services = await ensureServices((line) => log(line));
  const { KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl, DATABASE_URL: databaseUrl } = services.endpoints;
  const kafka = new Kafka({ clientId: 'bench-pipeline', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  // the connector keeps its live indexes' checkpoints here, as the compose stack does (a volume)
  const checkpoints = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-checkpoints-'));
  const db = new Client({ connectionString: databaseUrl });
  const p = `bench-${Date.now().toString(36)}`;
  const tables: string[] = [];
  log(`simulator: ${fmt(args.users)} users, ${fmt(args.logins)} login events…`);
  const roles: RoleProcess[] = [];
  const role = (name: string, settings: unknown): RoleProcess => {
    const r = spawnRole(name, settings);
    roles.push(r);
    return r;
  };
  let sim: SimHandle | undefined;
  try {
    // The simulator's org is dated by the real clock, which the roles' look-back also uses.
    sim = await spawnSimulator(args.users, args.logins, new Date().toISOString(), {
      compiled: true,
      controllable: true,
    });
    await admin.connect();
    await db.connect();
    const c = sim.credentials;
    const simUrl = sim.url;
    const publisher: PublisherOptions = { ...DEFAULT_PUBLISHER, compression: args.compression };
    const settingsFor = (name: string): ConnectorSettings =>
      benchSettings({
        name,
        simUrl,
        credentials: c,
        brokers,
        registryUrl,
        parallelPages: PARALLEL_PAGES,
        partitions: PARTITIONS,
        publisher,
        indexCheckpointDir: checkpoints,
      });
    const stages: StageFigure[] = [];
    const total = args.users + args.logins;

    log('1/6 plain read of the CSV pages…');
    const plain = await role('plain-read', settingsFor(`${p}-plain`)).next<PlainReadFigures>();
    if (plain.rows !== total) throw new Error(`the plain read saw ${plain.rows} rows, expected ${total}`);

    log('2/6 extract, transform and encode (no Kafka)…');
    const ex = await role('extract', settingsFor(`${p}-extract`)).next<ExtractFigures>();
    if (ex.users + ex.logins !== total)
      throw new Error(`the extraction saw ${ex.users + ex.logins} rows, expected ${total}`);
    const extractSeconds = ex.seconds - ex.transformSeconds;
    stages.push({
      stage: 'extract',
      records: total,
      seconds: extractSeconds,
      recordsPerSecond: rate(total, extractSeconds),
      reference: {
        what: `plain read of the CSV pages (${(plain.bytes / 1048576).toFixed(0)} MB)`,
        recordsPerSecond: rate(plain.rows, plain.seconds),
        ratio: rate(total, extractSeconds) / rate(plain.rows, plain.seconds),
      },
      note: 'wall time of the extraction minus the time spent in transform + encode, in the same process',
    });
    stages.push({
      stage: 'transform + encode',
      records: total,
      seconds: ex.transformSeconds,
      recordsPerSecond: rate(total, ex.transformSeconds),
      note: 'CPU time in the mapping stages, the content hash and the Avro encoder, one thread',
    });

    log('3/6 end to end: the sink waits, one sync run fills the topics…');
    const e2eName = `${p}-e2e`;
    const e2eSettings = settingsFor(e2eName);
    const sinkSettings = (suffix: string, opts: { allStreams?: boolean } = {}): SinkRoleSettings => {
      const prefix = `${p.replace(/-/g, '_')}_${suffix}`;
      const t = { users: `${prefix}_users`, logins: `${prefix}_logins` };
      tables.push(t.users, t.logins);
      // allStreams: every declared stream reads this run's topic into its own table, as a real
      // first start has them. The shared default tables (neurons_user_licenses…) hold offsets of
      // earlier runs, and then no table of this sink is in its first start: no live bulk load
      // (sinks/postgres/bulk.ts beginBulk; docs/performance-s15-pg.md).
      const streams = opts.allStreams ? GENERIC_STREAMS.map((d) => d.name) : [];
      const streamTable = (stream: string) => `${prefix}_${stream.replace(/-/g, '_')}`.slice(0, 63);
      tables.push(...streams.map(streamTable));
      return {
        brokers,
        registryUrl,
        databaseUrl,
        groupId: `${p}-${suffix}`,
        topics: {
          users: e2eSettings.topics.users,
          logins: e2eSettings.topics.logins,
          deadLetter: `${e2eName}.sink-dlq`,
          ...Object.fromEntries(streams.map((d) => [d, e2eSettings.topics.streams?.[d]])),
        },
        tables: {
          users: { schema: 'public', name: t.users },
          logins: { schema: 'public', name: t.logins },
          ...Object.fromEntries(streams.map((d) => [d, { schema: 'public', name: streamTable(d) }])),
        },
      };
    };
    // The sink starts first and subscribes to the topics: they are provisioned as the run would.
    await provisionTopics(admin, e2eSettings.topics, e2eSettings.topicSettings, silentLogger);
    const e2eSinkSettings = sinkSettings('e2e', { allStreams: true });
    const servers = { ...serverPids(services.started), simulator: sim.child.pid! };
    const cpuBefore = cpuOf(servers);
    const cpuFrom = Date.now();
    const e2eSink = role('sink', e2eSinkSettings);
    await e2eSink.next();
    const syncRole = role('sync', { settings: e2eSettings, fullRepublish: true });
    const sync = await syncRole.next<SyncFigures>();
    if (sync.status !== 'succeeded') throw new Error(`the sync failed: ${JSON.stringify(sync.error)}`);
    e2eSink.send('the topics are complete');
    const sinkE2e = await e2eSink.next<SinkFigures>();
    const cpuAfter = cpuOf(servers);
    const cpuSeconds = (Date.now() - cpuFrom) / 1000;
    const syncSeconds = (sync.endedAt - sync.startedAt) / 1000;
    // Until the tables are whole: caught up, and every declared index built (a live bulk load builds
    // them once nothing came for tuning.liveLoadIdleMs: sinks/postgres/bulk.ts).
    const e2eSeconds = ((sinkE2e.indexedAt ?? sinkE2e.caughtUpAt) - sync.startedAt) / 1000;
    if (sinkE2e.rows.users !== args.users || sinkE2e.rows.logins !== args.logins) {
      throw new Error(
        `the sink tables hold ${sinkE2e.rows.users} users and ${sinkE2e.rows.logins} login events, ` +
          `expected ${args.users} and ${args.logins}`,
      );
    }
    stages.push({
      stage: 'sync run (sim -> Kafka)',
      records: total,
      seconds: syncSeconds,
      recordsPerSecond: rate(total, syncSeconds),
      note: 'one full-republish run: log-in, jobs, extraction, transform, encode, produce (acks=all), state commit',
    });
    stages.push({
      stage: 'end to end (sim -> PostgreSQL)',
      records: total,
      seconds: e2eSeconds,
      recordsPerSecond: rate(total, e2eSeconds),
      note:
        'from the start of the run until the sink has committed the end of both topics and the tables ' +
        `have every declared index (caught up at ${((sinkE2e.caughtUpAt - sync.startedAt) / 1000).toFixed(1)} s); ` +
        'the sink runs alongside the sync',
    });

    log('   a second run, nothing changed in the org…');
    const again = await role('sync', { settings: e2eSettings, fullRepublish: false }).next<SyncFigures>();
    if (again.status !== 'succeeded' || again.usersUnchanged !== args.users)
      throw new Error(`the second run should find all ${args.users} users unchanged: ${JSON.stringify(again)}`);
    const againSeconds = (again.endedAt - again.startedAt) / 1000;
    stages.push({
      stage: 'second sync run, nothing changed',
      records: again.usersExtracted,
      seconds: againSeconds,
      recordsPerSecond: rate(again.usersExtracted, againSeconds),
      note:
        `a routine run: the live users (${fmt(args.users)}) from the compact index, every user ` +
        `extracted and found unchanged before mapping, login events after the watermark only ` +
        `(${fmt(again.loginEventsPublished)}); users read: ${again.usersRead?.kind ?? '?'} ` +
        `(${JSON.stringify(again.usersRead?.rowsRead ?? {})}); ${phaseSplit(again)}`,
    });

    log('   a third run, 1 % of the users changed in the org…');
    const changed = await sim.change(0.01, 1);
    const third = await role('sync', { settings: e2eSettings, fullRepublish: false }).next<SyncFigures>();
    if (third.status !== 'succeeded' || third.usersPublished !== changed || third.usersTombstoned !== 0)
      throw new Error(`the third run should publish the ${changed} changed users: ${JSON.stringify(third)}`);
    const thirdSeconds = (third.endedAt - third.startedAt) / 1000;
    stages.push({
      stage: 'routine sync run, 1 % of users changed',
      records: third.usersExtracted,
      seconds: thirdSeconds,
      recordsPerSecond: rate(third.usersExtracted, thirdSeconds),
      note:
        `${fmt(changed)} users changed in the org and published, ${fmt(third.usersUnchanged)} skipped ` +
        `before mapping; live users from the compact index plus the users topic after its watermark; ` +
        `users read: ${third.usersRead?.kind ?? '?'} (${JSON.stringify(third.usersRead?.rowsRead ?? {})}); ` +
        phaseSplit(third),
    });

    // the same routine run with every user read in full (usersFullScanEvery 0: the read before the
    // incremental one), side by side in this process, after another 1 % of the users changed
    log('   a fourth run, 1 % changed again, every user read in full (usersFullScanEvery 0)…');
    const changedAgain = await sim.change(0.01, 2);
    const fullSettings = { ...e2eSettings, salesforce: { ...e2eSettings.salesforce, usersFullScanEveryMs: 0 } };
    const fourth = await role('sync', { settings: fullSettings, fullRepublish: false }).next<SyncFigures>();
    if (fourth.status !== 'succeeded' || fourth.usersPublished !== changedAgain || fourth.usersTombstoned !== 0)
      throw new Error(`the fourth run should publish the ${changedAgain} changed users: ${JSON.stringify(fourth)}`);
    const fourthSeconds = (fourth.endedAt - fourth.startedAt) / 1000;
    stages.push({
      stage: 'routine sync run, 1 % of users changed, full users read (before)',
      records: fourth.usersExtracted,
      seconds: fourthSeconds,
      recordsPerSecond: rate(fourth.usersExtracted, fourthSeconds),
      note:
        `usersFullScanEvery 0: every user's full row read (${JSON.stringify(fourth.usersRead?.rowsRead ?? {})}); ` +
        `${fmt(changedAgain)} changed users published; incremental run above: ${thirdSeconds.toFixed(1)} s, ` +
        `${(fourthSeconds / Math.max(thirdSeconds, 1e-9)).toFixed(1)}x faster; ${phaseSplit(fourth)}`,
    });

    log('4/6 the sink alone, over the full topics…');
    const alone = role('sink', sinkSettings('alone'));
    await alone.next();
    alone.send('the topics are complete');
    const sinkAlone = await alone.next<SinkFigures>();
    const sinkSeconds = (sinkAlone.caughtUpAt - sinkAlone.startedAt) / 1000;

    log('5/6 COPY and a plain SQL upsert of the same rows…');
    const copyUsers = await copyReference(
      db,
      `public.${e2eSinkSettings.tables.users.name}`,
      `public.${e2eSinkSettings.tables.users.name}_copy`,
    );
    const copyLogins = await copyReference(
      db,
      `public.${e2eSinkSettings.tables.logins.name}`,
      `public.${e2eSinkSettings.tables.logins.name}_copy`,
    );
    tables.push(`${e2eSinkSettings.tables.users.name}_copy`, `${e2eSinkSettings.tables.logins.name}_copy`);
    const copySeconds = copyUsers.seconds + copyLogins.seconds;
    const upsertUsers = await upsertReference(
      db,
      `public.${e2eSinkSettings.tables.users.name}`,
      `public.${e2eSinkSettings.tables.users.name}_upsert`,
      'upsert',
    );
    const upsertLogins = await upsertReference(
      db,
      `public.${e2eSinkSettings.tables.logins.name}`,
      `public.${e2eSinkSettings.tables.logins.name}_upsert`,
      'insert',
    );
    tables.push(`${e2eSinkSettings.tables.users.name}_upsert`, `${e2eSinkSettings.tables.logins.name}_upsert`);
    const upsertRate = rate(upsertUsers.rows + upsertLogins.rows, upsertUsers.seconds + upsertLogins.seconds);
    stages.push({
      stage: 'sink (Kafka -> PostgreSQL)',
      records: total,
      seconds: sinkSeconds,
      recordsPerSecond: rate(total, sinkSeconds),
      reference: {
        what: 'PostgreSQL COPY of the same rows, unindexed',
        recordsPerSecond: rate(copyUsers.rows + copyLogins.rows, copySeconds),
        ratio: rate(total, sinkSeconds) / rate(copyUsers.rows + copyLogins.rows, copySeconds),
      },
      note:
        `a new group from the beginning of the full topics: fetch, decode, upsert into indexed tables, ` +
        `commit (COPY: users ${fmt(rate(copyUsers.rows, copyUsers.seconds))}/s, logins ` +
        `${fmt(rate(copyLogins.rows, copyLogins.seconds))}/s)`,
    });
    stages.push({
      stage: 'sink, against PostgreSQL upsert',
      records: total,
      seconds: sinkSeconds,
      recordsPerSecond: rate(total, sinkSeconds),
      reference: {
        what: 'PostgreSQL staging COPY + INSERT ON CONFLICT of the same rows, indexed',
        recordsPerSecond: upsertRate,
        ratio: rate(total, sinkSeconds) / upsertRate,
      },
      note:
        `the same sink run, against the database's own upsert of these rows, which the sink's ` +
        `semantics need (users ${fmt(rate(upsertUsers.rows, upsertUsers.seconds))}/s, logins ` +
        `${fmt(rate(upsertLogins.rows, upsertLogins.seconds))}/s)`,
    });

    log('6/6 produce: our publisher, then ProducerPerformance…');
    const pp: Record<'users' | 'logins', number> = { users: 0, logins: 0 };
    let userValueBytes = 0;
    for (const kind of ['users', 'logins'] as const) {
      const count = kind === 'users' ? args.users : args.logins;
      const sample = await sampleRecord(kafka, e2eSettings.topics[kind], Math.min(1000, count));
      const bytes = sample.key.length + sample.value.length;
      const ours = `${p}.produce-${kind}`;
      const theirs = `${p}.pp-${kind}`;
      await createTopicsReady(
        admin,
        [ours, theirs].map((topic) => ({ topic, numPartitions: PARTITIONS })),
      );
      const mine = await role('produce', {
        brokers,
        topic: ours,
        key: sample.key.toString('base64'),
        value: sample.value.toString('base64'),
        count,
        publisher,
      }).next<ProduceFigures>();
      const perf = await producerPerformance(brokers, theirs, count, bytes, args.compression, publisher.lingerMs);
      pp[kind] = perf.recordsPerSecond;
      if (kind === 'users') userValueBytes = sample.medianValueBytes;
      stages.push({
        stage: `produce ${kind === 'users' ? 'users' : 'login events'}`,
        records: count,
        seconds: mine.seconds,
        recordsPerSecond: rate(count, mine.seconds),
        reference: {
          what: `Kafka ProducerPerformance, ${fmt(count)} x ${bytes} B`,
          recordsPerSecond: perf.recordsPerSecond,
          ratio: rate(count, mine.seconds) / perf.recordsPerSecond,
        },
        note:
          `real encoded ${kind} records of ${bytes} B (key + value), compression ${args.compression}, ` +
          `acks=all, idempotent`,
      });
    }

    // The floor of this machine per kind, and the end-to-end rate against it (same run).
    const floorOf = (
      kind: 'users' | 'logins',
      count: number,
      phaseStart: number | undefined,
      phaseEnd: number | undefined,
      caughtUp: number,
      copy: { rows: number; seconds: number },
    ): FloorFigure => {
      const plainRate = rate(plain.byKind[kind].rows, plain.byKind[kind].seconds);
      const copyRate = rate(copy.rows, copy.seconds);
      const refs = { 'plain read': plainRate, ProducerPerformance: Math.round(pp[kind]), COPY: copyRate };
      const [by, floor] = Object.entries(refs).sort((a, b) => a[1] - b[1])[0];
      const start = phaseStart ?? sync.startedAt;
      const endToEnd = rate(count, (caughtUp - start) / 1000);
      const syncPhase = phaseEnd === undefined ? 0 : rate(count, (phaseEnd - start) / 1000);
      return { kind, records: count, ...refs, floor, floorBy: by, syncPhase, endToEnd, ratio: endToEnd / floor };
    };
    const floors = [
      floorOf('users', args.users, sync.phases.users, sync.phases.deletions, sinkE2e.caughtUp.users, copyUsers),
      floorOf('logins', args.logins, sync.phases.logins, sync.phases.users, sinkE2e.caughtUp.logins, copyLogins),
    ];

    const simPeak = peakRssOfPid(sim.child.pid!);
    const result: BenchResult = {
      kind: 'pipeline',
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        host: os.hostname(),
      },
      scale: { users: args.users, logins: args.logins },
      settings: {
        compression: args.compression,
        partitions: PARTITIONS,
        parallelPages: PARALLEL_PAGES,
        runtime: roleRuntime(),
        indexCheckpoints: true,
      },
      stages,
      floors,
      userValueBytes,
      peakRssMb: {
        'connector (sync run)': sync.peakRssMb,
        'connector (second run)': again.peakRssMb,
        'connector (1 % changed run)': third.peakRssMb,
        'sink (end to end)': sinkE2e.peakRssMb,
        'sink (backlog)': sinkAlone.peakRssMb,
        'extract role': ex.peakRssMb,
        simulator: simPeak,
      },
      cpuSeconds: {
        'connector (sync run)': sync.cpuSeconds,
        'connector (second run)': again.cpuSeconds,
        'connector (1 % changed run)': third.cpuSeconds,
        'sink (end to end)': sinkE2e.cpuSeconds,
        'sink (backlog)': sinkAlone.cpuSeconds,
        'extract role': ex.cpuSeconds,
      },
      endToEndCpu: {
        seconds: cpuSeconds,
        available: os.cpus().length * cpuSeconds,
        byProcess: {
          'connector (sync run)': sync.cpuSeconds,
          'sink (end to end)': sinkE2e.cpuSeconds,
          ...Object.fromEntries(
            Object.keys(servers).map((k) => [
              k,
              cpuAfter[k] !== null && cpuBefore[k] !== null ? cpuAfter[k]! - cpuBefore[k]! : null,
            ]),
          ),
        },
      },
      memoryAtPeakMb: {
        'connector (sync run)': sync.atPeakMb,
        'connector (second run)': again.atPeakMb,
        'connector (1 % changed run)': third.atPeakMb,
        'sink (end to end)': sinkE2e.atPeakMb,
        'sink (backlog)': sinkAlone.atPeakMb,
        'extract role': ex.atPeakMb,
      },
      targets: targets(args, stages, Math.max(sync.peakRssMb, again.peakRssMb, third.peakRssMb), e2eSeconds, {
        userValueBytes,
        thirdSeconds,
        cpuPerUserUs: (1e6 * sync.cpuSeconds) / args.users,
        cpuPerRecordUs: (1e6 * sync.cpuSeconds) / total,
      }),
    };
    fs.mkdirSync(args.out, { recursive: true });
    const file = resultFile(args.out, result);
    fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    const md = markdown(result);
    fs.writeFileSync(file.replace(/\.json$/, '.md'), md);
    const svg = chartFromResults(args.out);
    if (svg) fs.writeFileSync(path.join(args.out, 'pipeline.svg'), svg);
    process.stdout.write(
      `\n${md}\nwritten: ${file}, ${file.replace(/\.json$/, '.md')}, ${path.join(args.out, 'pipeline.svg')}\n`,
    );
  } finally {
    for (const r of roles) r.kill();
    for (const t of tables) await db.query(`DROP TABLE IF EXISTS public.${t}`).catch(() => undefined);
    await db.end().catch(() => undefined);
    await deleteBenchTopics(admin, p);
    await deleteBenchSubjects(registryUrl, p);
    await admin.disconnect();
    await sim?.stop();
    fs.rmSync(checkpoints, { recursive: true, force: true });
    await stopServices(services.started);
  }
}

/** Issue 15's targets (stated for 1M users; a smaller run reports its figures, met only at scale). */
function targets(
  args: Args,
  stages: StageFigure[],
  connectorPeakMb: number,
  e2eSeconds: number,
  more: { userValueBytes: number; thirdSeconds: number; cpuPerUserUs: number; cpuPerRecordUs: number },
): BenchResult['targets'] {
  const ratio = (stage: string) => stages.find((s) => s.stage === stage)?.reference?.ratio ?? 0;
  const atScale = args.users >= 1_000_000;
  return [
    {
      what: 'user value size (median of 1,000 real users records, 5-byte frame included)',
      target: '<= 1.3 KB',
      reached: `${fmt(more.userValueBytes)} B`,
      met: more.userValueBytes <= 1300,
    },
    {
      what: 'first full run end to end',
      target: '<= 150 s at 1M users + 1M logins',
      reached: `${e2eSeconds.toFixed(0)} s for ${fmt(args.users)} users + ${fmt(args.logins)} login events`,
      met: atScale && e2eSeconds <= 150,
    },
    {
      // The issue states it per user: the full run's whole CPU (its users and their login events)
      // over its users. Per record (users and login events) is shown beside it, not judged.
      what: 'connector CPU per user (full run, its login events included)',
      target: '<= 150 µs',
      reached: `${more.cpuPerUserUs.toFixed(0)} µs (${more.cpuPerRecordUs.toFixed(0)} µs a record)`,
      met: more.cpuPerUserUs <= 150,
    },
    {
      what: 'routine run, 1 % changed',
      target: '<= 30 s at 1M users',
      reached: `${more.thirdSeconds.toFixed(1)} s at ${fmt(args.users)} users`,
      met: atScale && more.thirdSeconds <= 30,
    },
    {
      what: 'sink vs PostgreSQL upsert',
      target: '>= 0.8',
      reached: ratio('sink, against PostgreSQL upsert').toFixed(2),
      met: ratio('sink, against PostgreSQL upsert') >= 0.8,
    },
    {
      what: 'sink vs COPY',
      target: '>= 0.7',
      reached: ratio('sink (Kafka -> PostgreSQL)').toFixed(2),
      met: ratio('sink (Kafka -> PostgreSQL)') >= 0.7,
    },
    {
      what: 'connector peak RSS (any run)',
      target: '<= 256 MB at 1M users',
      reached: `${connectorPeakMb} MB at ${fmt(args.users)} users`,
      met: atScale && connectorPeakMb <= 256,
    },
  ];
}

function cpuOf(pids: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSecondsOfTree(pid)]));
}

/** One record of the topic, as it was produced (key and value bytes), and the median value size of the first `n`. */
async function sampleRecord(
  kafka: Kafka,
  topic: string,
  n: number,
): Promise<{ key: Buffer; value: Buffer; medianValueBytes: number }> {
  const consumer = kafka.consumer({ groupId: `bench-sample-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const sizes: number[] = [];
    let first: { key: Buffer; value: Buffer } | undefined;
    return await new Promise((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (!message.key || !message.value || sizes.length >= n) return;
          first ??= { key: message.key, value: message.value };
          sizes.push(message.value.length);
          if (sizes.length === n)
            resolve({ ...first, medianValueBytes: sizes.sort((a, b) => a - b)[Math.floor(n / 2)] });
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
