/**
 * A focused sink measurement (not a test): the sink draining a backlog of users and login events
 * into empty tables, once per checkout given, side by side in one run, against PostgreSQL's own
 * COPY of the same rows (unindexed tables) and its own upsert of them (staging COPY + INSERT …
 * ON CONFLICT into indexed tables), with the sink's peak RSS. Then a steady-state round: the same
 * users published again (1 % changed) into the loaded tables, against PostgreSQL's upsert of them.
 *
 *   node -r ts-node/register/transpile-only bench/sink.ts [--users N] [--logins N]
 *     [--roots /work/main,.] [--profile dir] [--pk] [--copy-format] [--no-steady] [--no-headers]
 *
 * Each sink runs in a child process of its own (its RSS is the sink's alone), loading the sink
 * from that checkout's sinks/ (a root without the new code is "before"). KAFKA_BROKERS,
 * SCHEMA_REGISTRY_URL and DATABASE_URL default to the local test services. `--profile dir`
 * writes a --cpu-prof profile of each child there. `--pk` also times COPY into a table with its
 * primary key against COPY without one plus ADD PRIMARY KEY (the same rows); `--copy-format` COPY
 * text against COPY binary of the same rows (what PostgreSQL's side of a load would gain). The initial load
 * ends when the stored offsets reach the backlog's ends AND the tables have their declared
 * secondary indexes (a bulk load, sinks/postgres/bulk.ts, builds them after its last batch).
 * SINK_BENCH_CHILD_LOG=file appends what each child printed besides its figures (e.g. with
 * `--tunings '[{"nodeArgs":["--trace-gc"]}]'`, the GC's lines).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CompressionTypes } from 'kafkajs';
import { Pool } from 'pg';

process.env.KAFKA_BROKERS ??= '127.0.0.1:19092';
process.env.SCHEMA_REGISTRY_URL ??= 'http://127.0.0.1:18081/apis/ccompat/v7';
process.env.DATABASE_URL ??= 'postgres://connector:connector-local@127.0.0.1:15432/connector';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** What the orchestrator tells a child sink. */
interface ChildSettings {
  root: string;
  topics: { users: string; logins: string; deadLetter: string };
  tables: { users: string; logins: string };
  groupId: string;
  /** End offsets to reach, per topic and partition. */
  ends: Record<string, Record<number, string>>;
  /** Tuning overrides of this run (`--tunings`): one factor at a time, side by side. */
  tuning?: Record<string, unknown>;
}

interface ChildFigures {
  seconds: number;
  peakRssMb: number;
  /** Peaks of the V8 heap in use and of Buffers (fetched Kafka data, COPY text), MB. */
  peakHeapMb: number;
  peakBuffersMb: number;
  /** Transactions committed, and the sum of their times from arrival to commit (s). */
  batches: number;
  busySeconds: number;
  cpuSeconds: number;
  /** Where the wall time went (kafkajs's instrumentation events, pg_stat_activity sampled every
   *  20 ms): seconds in fetches (kafkajs fetches again only once every batch of the last fetch is
   *  processed), seconds with no batch in process, and the share of samples in which PostgreSQL
   *  was running a statement of this sink (active) or holding its transaction open while waiting
   *  on the sink (idle in transaction). */
  fetchSeconds?: number;
  /** From start() to the first batch (group join), and then with no batch in process. */
  startupSeconds?: number;
  noBatchSeconds?: number;
  pgActiveShare?: number;
  pgWaitingShare?: number;
  /** The share of samples in which a statement of this sink was active and not waiting on the
   *  sink's bytes (ClientRead): PostgreSQL's own work; and those samples by wait event (CPU: none),
   *  in % of all samples. */
  pgWorkingShare?: number;
  pgWorkingOn?: Record<string, number>;
}

async function child(s: ChildSettings): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sinks = require(path.resolve(s.root, 'sinks')) as typeof import('../sinks');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { USERS, LOGINS } = require(path.resolve(s.root, 'schemas/streams')) as typeof import('../schemas/streams');
  // The client as production builds it: that checkout's createKafka, from that checkout's kafkajs
  // (its node_modules), with what createKafka installs for reading (fetch-gunzip.ts, and on branch
  // s16 fetch-records.ts). Before session 16 the child built its own client from the bench's
  // kafkajs and installed fetch-gunzip into the checkout's: with two checkouts of different
  // node_modules, the base's gunzip went into a kafkajs its client did not use.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createKafka } = require(path.resolve(s.root, 'kafka', 'client')) as typeof import('../kafka/client');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { silentLogger } = require(path.resolve(s.root, 'kernel', 'logger')) as typeof import('../kernel/logger');
  const kafka = createKafka({ clientId: 'bench-sink', brokers: [process.env.KAFKA_BROKERS!] }, silentLogger);
  const app = `bench-sink-${process.pid}`;
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4, application_name: app });
  pool.on('error', () => undefined);
  // The timeline: fetches and batches in process (kafkajs's events), PostgreSQL's state (sampled).
  let fetchMs = 0;
  let noBatchMs = 0;
  let inProcess = 0;
  let lastChange = 0; // 0: no batch yet (the start-up is counted apart)
  let firstBatch = 0;
  const makeConsumer = kafka.consumer.bind(kafka);
  kafka.consumer = (config) => {
    const c = makeConsumer(config);
    c.on(c.events.FETCH, (e) => {
      if (lastChange > 0 && !finished) fetchMs += e.payload.duration;
    });
    const step = (d: number) => {
      const now = performance.now();
      if (lastChange === 0) firstBatch = now;
      else if (inProcess === 0) noBatchMs += now - lastChange;
      lastChange = now;
      inProcess += d;
    };
    c.on(c.events.START_BATCH_PROCESS, () => step(1));
    c.on(c.events.END_BATCH_PROCESS, () => step(-1));
    return c;
  };
  const watcher = new Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
  watcher.on('error', () => undefined);
  let pgSamples = 0;
  let pgActive = 0;
  let pgWaiting = 0;
  let pgWorking = 0;
  const pgWorkingOn = new Map<string, number>();
  let watching = true;
  let finished = false;
  const atWork = "state = 'active' AND wait_event_type IS DISTINCT FROM 'Client'";
  const watch = (async () => {
    while (watching) {
      const { rows } = await watcher.query<{
        active: number;
        waiting: number;
        working: number;
        wait: string | null;
        what: string | null;
      }>(
        "SELECT count(*) FILTER (WHERE state = 'active')::int AS active, " +
          "count(*) FILTER (WHERE state = 'idle in transaction')::int AS waiting, " +
          // Active and not waiting on its client (a COPY FROM STDIN waits in ClientRead for the
          // sink's next bytes): PostgreSQL itself is at work (CPU, or the wait event named).
          `count(*) FILTER (WHERE ${atWork})::int AS working, ` +
          `min(wait_event) FILTER (WHERE ${atWork}) AS wait, ` +
          `min(left(query, 24)) FILTER (WHERE ${atWork}) AS what ` +
          'FROM pg_stat_activity WHERE application_name = $1',
        [app],
      );
      pgSamples++;
      if (rows[0].working > 0) {
        pgWorking++;
        const what = `${rows[0].wait ?? 'CPU'} in "${(rows[0].what ?? '').replace(/\s+/g, ' ')}…"`;
        pgWorkingOn.set(what, (pgWorkingOn.get(what) ?? 0) + 1);
      }
      if (rows[0].active > 0) pgActive++;
      else if (rows[0].waiting > 0) pgWaiting++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  let peak = 0;
  let batches = 0;
  let busy = 0;
  let heap = 0;
  let buffers = 0;
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    heap = Math.max(heap, m.heapUsed);
    buffers = Math.max(buffers, m.arrayBuffers);
  }, 50);
  const sink = sinks.createPostgresSink({
    kafka,
    pool,
    schemas: sinks.registrySchemaSource({ url: process.env.SCHEMA_REGISTRY_URL! }),
    topics: s.topics,
    tables: {
      users: { schema: 'public', name: s.tables.users },
      logins: { schema: 'public', name: s.tables.logins },
    },
    groupId: s.groupId,
    streams: [USERS, LOGINS],
    ...(s.tuning ? { tuning: s.tuning } : {}),
    onBatch: (b) => {
      batches++;
      busy += b.seconds;
    },
  });
  // SINK_BENCH_HEAP_SAMPLE=file: V8's sampling heap profile of the run, collected objects included
  // (where the bytes the GC reclaims are allocated; --heap-prof keeps only the survivors).
  const heapSample = process.env.SINK_BENCH_HEAP_SAMPLE ? await startHeapSampling() : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const tStart = performance.now();
  await sink.start();
  // Caught up: the database's stored offsets reach the ends (the truth; Kafka's copy follows).
  for (;;) {
    const { rows } = await pool.query<{ table_name: string; topic: string; partition: number; next_offset: string }>(
      'SELECT table_name, topic, partition, next_offset FROM neurons_sink_offsets WHERE table_name = ANY($1)',
      [[s.tables.users, s.tables.logins]],
    );
    const done = Object.entries(s.ends).every(([topic, parts]) =>
      Object.entries(parts).every(
        ([p, end]) =>
          BigInt(end) === 0n ||
          rows.some((r) => r.topic === topic && r.partition === Number(p) && BigInt(r.next_offset) >= BigInt(end)),
      ),
    );
    if (done) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // A sink that loads in bulk builds the secondary indexes after its last batch: the load ends
  // when the tables have every declared index (a sink that keeps them has them from the start).
  const declared = USERS.sink.indexes.length + LOGINS.sink.indexes.length;
  for (;;) {
    const { rows } = await pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY($1) " +
        "AND indexname NOT LIKE '%pkey'",
      [[s.tables.users, s.tables.logins]],
    );
    if (Number(rows[0].n) >= declared) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (heapSample) await heapSample(`${process.env.SINK_BENCH_HEAP_SAMPLE!}.${process.pid}.heapprofile`);
  finished = true;
  const startupSeconds = (firstBatch - tStart) / 1000;
  clearInterval(sample);
  watching = false;
  await watch;
  await watcher.end();
  peak = Math.max(peak, process.memoryUsage.rss());
  await sink.stop();
  await pool.end();
  const mb = (n: number) => Math.round(n / 2 ** 20);
  const out: ChildFigures = {
    seconds,
    peakRssMb: mb(peak),
    peakHeapMb: mb(heap),
    peakBuffersMb: mb(buffers),
    batches,
    busySeconds: busy,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    startupSeconds,
    fetchSeconds: fetchMs / 1000,
    noBatchSeconds: noBatchMs / 1000,
    pgActiveShare: pgActive / Math.max(1, pgSamples),
    pgWaitingShare: pgWaiting / Math.max(1, pgSamples),
    pgWorkingShare: pgWorking / Math.max(1, pgSamples),
    pgWorkingOn: Object.fromEntries(
      [...pgWorkingOn].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round((100 * v) / Math.max(1, pgSamples))]),
    ),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

/** Starts the inspector's sampling heap profiler; the function returned writes the profile to a file. */
async function startHeapSampling(): Promise<(file: string) => Promise<void>> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 16384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async (file) => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/**
 * A checkout compiled by its own tsc into a directory of ours (the checkout is only read): the
 * sink runs from JavaScript, as in production and in bench/pipeline.ts (no TypeScript compiler in
 * its RSS). The shipped schema files and node_modules are the checkout's, linked beside dist/.
 */
function compile(root: string, i: number): string {
  const base = path.join(os.tmpdir(), `sink-bench-${process.pid}-${i}`);
  fs.mkdirSync(base, { recursive: true });
  for (const link of ['schemas', 'node_modules'])
    if (!fs.existsSync(path.join(base, link))) fs.symlinkSync(path.resolve(root, link), path.join(base, link));
  const tsc = path.resolve(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(
    process.execPath,
    [tsc, '-p', path.resolve(root, 'tsconfig.json'), '--noCheck', '--outDir', path.join(base, 'dist')],
    {
      stdio: 'inherit',
    },
  );
  return base;
}

function runChild(s: ChildSettings, profileDir?: string): Promise<ChildFigures> {
  return new Promise((resolve, reject) => {
    // A tuning's `nodeArgs` are the child's node flags (e.g. V8's --heap-growing-percent), not sink tuning.
    const { nodeArgs = [], ...tuning } = (s.tuning ?? {}) as { nodeArgs?: string[] };
    s = { ...s, tuning };
    const args = [
      ...nodeArgs,
      ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
      path.join(ownBuild, 'dist', 'bench', 'sink.js'),
      '--child',
      JSON.stringify(s),
    ];
    const env = { ...process.env, NODE_PATH: path.join(s.root, '..', 'node_modules') };
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => {
      // What else the child printed (e.g. node's --trace-gc lines), kept where SINK_BENCH_CHILD_LOG says.
      if (process.env.SINK_BENCH_CHILD_LOG) fs.appendFileSync(process.env.SINK_BENCH_CHILD_LOG, out);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as ChildFigures);
      else reject(new Error(`sink child for ${s.root} exited ${code}: ${out.slice(-500)}`));
    });
  });
}

/** A users record with every field of the shipped schema set, as a connector's typical user. */
function fullUser(
  base: Record<string, unknown>,
  fields: readonly { name: string; type: unknown }[],
  n: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const f of fields) {
    if (out[f.name] !== undefined) continue;
    const t = Array.isArray(f.type) ? f.type.find((x) => x !== 'null') : f.type;
    if (t === 'boolean') out[f.name] = ((n * 31 + f.name.length) & 3) === 0;
    else if (t === 'string') out[f.name] = `${f.name} ${n % 97}`;
  }
  return out;
}

/**
 * PostgreSQL's own upsert of `source`'s rows into the loaded `target` (staging table, then one
 * INSERT … ON CONFLICT DO UPDATE of every column), timed, in one transaction.
 */
async function steadyUpsert(client: import('pg').PoolClient, source: string, target: string): Promise<number> {
  const { rows: cols } = await client.query<{ name: string }>(
    'SELECT quote_ident(attname) AS name FROM pg_attribute WHERE attrelid = $1::regclass AND ' +
      'attnum > 0 AND NOT attisdropped ORDER BY attnum',
    [source],
  );
  const set = cols
    .map((c) => c.name)
    .filter((n) => n !== 'id')
    .map((n) => `${n} = EXCLUDED.${n}`)
    .join(', ');
  const t0 = process.hrtime.bigint();
  await client.query('BEGIN');
  await client.query(`CREATE TEMP TABLE bench_stage2 ON COMMIT DROP AS SELECT * FROM ${source}`);
  await client.query(`INSERT INTO ${target} SELECT * FROM bench_stage2 ON CONFLICT (id) DO UPDATE SET ${set}`);
  await client.query('COMMIT');
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/**
 * A record's headers as the connector writes them (pipeline/sync.ts: the run's three, then a user's
 * content hash, device and UserLogin flags). Since session 16 the backlog carries them (before, no
 * headers: kafkajs's header decoding was not in this bench); `--no-headers` publishes without.
 */
function connectorHeaders(kind: 'users' | 'logins', n: number): Record<string, string> {
  const run = {
    'neurons-run-id': '2f6c3a1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b',
    'neurons-connector': 'salesforce',
    'neurons-source-org': '00D000000000001EAA',
  };
  if (kind === 'logins') return run;
  return {
    ...run,
    'neurons-content-hash': `v2:${(n * 2654435761).toString(16).padStart(40, '0')}`,
    'neurons-device': `${n % 7}|Windows|Chrome|${n % 1000}`,
    'neurons-user-login': n % 3 ? 'ff' : 'tf',
  };
}

/** This checkout's build: the child script runs from it. */
let ownBuild = '';

async function main(): Promise<void> {
  const users = Number(arg('users', '100000'));
  const logins = Number(arg('logins', '300000'));
  const roots = arg('roots', '.').split(',');
  // Each root runs once per tuning given (a JSON array of overrides, e.g. '[{}, {"maxBatchBytes": 1e9}]';
  // {"nodeArgs": ["--flag"]} runs that child's node with those flags).
  const tunings = JSON.parse(arg('tunings', '[{}]')) as Record<string, unknown>[];
  const noHeaders = process.argv.includes('--no-headers');
  const builds = roots.map((r, i) => path.join(compile(r, i), 'dist'));
  const own = roots.findIndex((r) => path.resolve(r) === path.resolve('.'));
  ownBuild = own >= 0 ? path.dirname(builds[own]) : compile('.', -1);
  const profileDir = process.argv.includes('--profile') ? path.resolve(arg('profile', 'profiles')) : undefined;
  const { SinkHarness } = await import('../test/support/sink-harness');
  const { login, loginId, user, userId } = await import('../test/support/sink-fixtures');
  const { avroType, loadConnectorSchemas } = await import('../schemas/avro');
  const { frame } = await import('../schemas/wire');
  const { copyReference, upsertReference } = await import('./reference');
  const fields = (loadConnectorSchemas().userValue as { fields: { name: string; type: unknown }[] }).fields;
  const h = await new SinkHarness({ databaseUrl: process.env.DATABASE_URL, partitions: 3 }).setUp();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const dropped: string[] = [];
  try {
    // As the connector publishes: gzip'd batches (what makes a fetch decompress several times over).
    const shipped = loadConnectorSchemas();
    const types = { users: avroType(shipped.userValue), logins: avroType(shipped.loginEventValue) };
    const ids = h.schemaIds();
    const producer = h.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const publish = async (kind: 'users' | 'logins', values: Record<string, unknown>[]) => {
      await producer.send({
        topic: h.topics[kind],
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: values.map((v, n) => ({
          key: h.encodeKey(v.id as string),
          value: frame(ids[kind], types[kind].toBuffer(v)),
          headers: noHeaders ? undefined : connectorHeaders(kind, n),
        })),
      });
    };
    const publishUsers = async (changed: (n: number) => boolean) => {
      for (let i = 0; i < users; i += 2000)
        await publish(
          'users',
          Array.from({ length: Math.min(2000, users - i) }, (_, j) => {
            const n = i + j;
            return fullUser(user(userId(n), changed(n) ? { title: 'Changed' } : {}), fields, n);
          }),
        );
    };
    await publishUsers(() => false);
    for (let i = 0; i < logins; i += 5000)
      await publish(
        'logins',
        Array.from({ length: Math.min(5000, logins - i) }, (_, j) =>
          login(loginId(i + j), userId((i + j) % users), 1_700_000_000_000 + i + j),
        ),
      );
    const admin = h.kafka.admin();
    await admin.connect();
    const endsNow = async () => {
      const ends: ChildSettings['ends'] = {};
      for (const topic of [h.topics.users, h.topics.logins])
        ends[topic] = Object.fromEntries((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
      return ends;
    };
    const ends = await endsNow();
    log(`sink backlog: ${users} users + ${logins} login events, 3 partitions each, gzip`);
    const results: { root: string; figures: ChildFigures; tables: ChildSettings['tables']; settings: ChildSettings }[] =
      [];
    for (const [t, tuning] of tunings.entries())
      for (const [i, checkout] of roots.entries()) {
        const root = tunings.length > 1 ? `${checkout} ${JSON.stringify(tuning)}` : checkout;
        const run = `${i}_${t}_${Date.now() % 1e6}`;
        const tables = { users: `bench_su_${run}`, logins: `bench_sl_${run}` };
        dropped.push(tables.users, tables.logins);
        const settings: ChildSettings = {
          root: builds[i],
          topics: h.topics,
          tables,
          groupId: `${h.groupId}-${run}`,
          ends,
          tuning,
        };
        const figures = await runChild(settings, profileDir);
        results.push({ root, figures, tables, settings });
        log(
          `  ${root}: ${figures.seconds.toFixed(1)} s, peak RSS ${figures.peakRssMb} MB ` +
            `(heap ${figures.peakHeapMb} MB, buffers ${figures.peakBuffersMb} MB), ` +
            `${figures.batches} batches busy ${figures.busySeconds.toFixed(1)} s, ` +
            `CPU ${figures.cpuSeconds.toFixed(1)} s` +
            (figures.fetchSeconds === undefined
              ? ''
              : `; start-up ${figures.startupSeconds!.toFixed(1)} s, then fetching ` +
                `${figures.fetchSeconds.toFixed(1)} s, no batch in process ` +
                `${figures.noBatchSeconds!.toFixed(1)} s, PostgreSQL active ` +
                `${Math.round(figures.pgActiveShare! * 100)} % / waiting on the sink in a transaction ` +
                `${Math.round(figures.pgWaitingShare! * 100)} % of samples` +
                (figures.pgWorkingShare === undefined
                  ? ''
                  : `; PostgreSQL at work (not reading the sink's bytes) ` +
                    `${Math.round(figures.pgWorkingShare * 100)} % (` +
                    Object.entries(figures.pgWorkingOn ?? {})
                      .slice(0, 6)
                      .map(([k, v]) => `${k} ${v} %`)
                      .join(', ') +
                    ')')),
        );
      }
    // The references, on the rows of the last sink's tables (every sink holds the same rows).
    const ref = results[results.length - 1].tables;
    const client = await h.pool.connect();
    let copySeconds = 0;
    let upsertSeconds = 0;
    let rows = 0;
    try {
      for (const t of [ref.users, ref.logins]) {
        const c = await copyReference(client, `public.${t}`, `public.${t}_copy`);
        dropped.push(`${t}_copy`);
        const u = await upsertReference(
          client,
          `public.${t}`,
          `public.${t}_ups`,
          t === ref.users ? 'upsert' : 'insert',
        );
        dropped.push(`${t}_ups`);
        copySeconds += c.seconds;
        upsertSeconds += u.seconds;
        rows += c.rows;
      }
    } finally {
      client.release();
    }
    // `--pk`: would a bulk load gain by dropping the primary key too? COPY with it, against COPY
    // without it followed by ADD PRIMARY KEY, on the same rows.
    if (process.argv.includes('--pk')) {
      const c = await h.pool.connect();
      try {
        for (const t of [ref.users, ref.logins]) {
          const withPk = await copyReference(c, `public.${t}`, `public.${t}_pk`, { primaryKey: true });
          dropped.push(`${t}_pk`);
          const bare = await copyReference(c, `public.${t}`, `public.${t}_nopk`);
          dropped.push(`${t}_nopk`);
          const t0 = process.hrtime.bigint();
          await c.query(`ALTER TABLE public.${t}_nopk ADD PRIMARY KEY (id)`);
          const pkSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
          log(
            `${t}: COPY with the primary key ${withPk.seconds.toFixed(2)} s; COPY without it ` +
              `${bare.seconds.toFixed(2)} s + ADD PRIMARY KEY ${pkSeconds.toFixed(2)} s`,
          );
        }
      } finally {
        c.release();
      }
    }
    // `--copy-format`: what would PostgreSQL's side of a load gain from COPY's binary form? The same
    // rows COPYed as text and as binary into fresh unindexed tables, rounds alternating.
    if (process.argv.includes('--copy-format')) {
      const c = await h.pool.connect();
      try {
        for (const t of [ref.users, ref.logins]) {
          const seconds: Record<'text' | 'binary', number[]> = { text: [], binary: [] };
          const bytes: Record<'text' | 'binary', number> = { text: 0, binary: 0 };
          for (let round = 0; round < 3; round++)
            for (const format of round % 2 === 0 ? (['text', 'binary'] as const) : (['binary', 'text'] as const)) {
              const target = `${t}_${format}${round}`;
              const r = await copyReference(c, `public.${t}`, `public.${target}`, { format });
              await c.query(`DROP TABLE public.${target}`);
              seconds[format].push(r.seconds);
              bytes[format] = r.bytes;
            }
          const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
          const each = (f: 'text' | 'binary') =>
            `${seconds[f].map((x) => x.toFixed(2)).join(' / ')} s (${(bytes[f] / 1e6).toFixed(0)} MB)`;
          log(
            `${t}: COPY text ${each('text')}, binary ${each('binary')}; ` +
              `binary / text ${(median(seconds.binary) / median(seconds.text)).toFixed(2)} (medians)`,
          );
        }
      } finally {
        c.release();
      }
    }
    const copyRate = rows / copySeconds;
    const upsertRate = rows / upsertSeconds;
    log(
      `initial load, ${rows} rows: COPY ${Math.round(copyRate)} rows/s, ` +
        `PostgreSQL upsert ${Math.round(upsertRate)} rows/s`,
    );
    log('| checkout | seconds | rows/s | vs COPY | vs PostgreSQL upsert | peak RSS | CPU s | CPU µs/row |');
    log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of results) {
      const rate = rows / r.figures.seconds;
      log(
        `| ${r.root} | ${r.figures.seconds.toFixed(1)} | ${Math.round(rate)} | ${(rate / copyRate).toFixed(2)} | ` +
          `${(rate / upsertRate).toFixed(2)} | ${r.figures.peakRssMb} MB | ${r.figures.cpuSeconds.toFixed(1)} | ` +
          // the child's whole life (start-up included) over the rows: an upper bound
          `${((r.figures.cpuSeconds * 1e6) / rows).toFixed(1)} |`,
      );
    }

    // Steady state: every user again, 1 % changed, into the loaded tables of each checkout.
    if (!process.argv.includes('--no-steady')) {
      await publishUsers((n) => n % 100 === 0);
      const ends2 = await endsNow();
      log(`steady state: ${users} users published again, 1 % changed`);
      const steady: { root: string; figures: ChildFigures }[] = [];
      for (const r of results) {
        const settings: ChildSettings = { ...r.settings, ends: ends2 };
        steady.push({ root: r.root, figures: await runChild(settings, profileDir) });
      }
      // PostgreSQL's upsert of the same rows (all users, 1 % changed) into the loaded users table.
      const c2 = await h.pool.connect();
      let seconds = 0;
      try {
        const t = ref.users;
        await c2.query(`CREATE TABLE ${t}_ups2 (LIKE ${t} INCLUDING ALL)`);
        dropped.push(`${t}_ups2`);
        await c2.query(`INSERT INTO ${t}_ups2 SELECT * FROM ${t}`);
        await c2.query(`CREATE TABLE ${t}_chg AS SELECT * FROM ${t}`);
        dropped.push(`${t}_chg`);
        await c2.query(
          `UPDATE ${t}_chg SET title = 'Changed again' WHERE id IN (SELECT id FROM ${t}_chg LIMIT ${users / 100})`,
        );
        await c2.query(`VACUUM ANALYZE ${t}_ups2`);
        seconds = await steadyUpsert(c2, `${t}_chg`, `${t}_ups2`);
      } finally {
        c2.release();
      }
      const upsertRate2 = users / seconds;
      log(
        `steady state, PostgreSQL upsert of the same ${users} users into the loaded table: ` +
          `${Math.round(upsertRate2)} rows/s`,
      );
      log('| checkout | seconds | rows/s | vs PostgreSQL upsert | peak RSS |');
      log('|---|---:|---:|---:|---:|');
      for (const s of steady) {
        const rate = users / s.figures.seconds;
        log(
          `| ${s.root} | ${s.figures.seconds.toFixed(1)} | ${Math.round(rate)} | ` +
            `${(rate / upsertRate2).toFixed(2)} | ` +
            `${s.figures.peakRssMb} MB |`,
        );
      }
    }
    await admin.disconnect();
    await producer.disconnect();
  } finally {
    for (const b of new Set([...roots.map((_, i) => i), -1]))
      fs.rmSync(path.join(os.tmpdir(), `sink-bench-${process.pid}-${b}`), { recursive: true, force: true });
    for (const t of dropped) await h.pool.query(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
    await h.pool.query('DELETE FROM neurons_sink_offsets WHERE table_name = ANY($1)', [dropped]).catch(() => undefined);
    await h.close();
  }
}

if (process.argv.includes('--child'))
  child(JSON.parse(process.argv[process.argv.indexOf('--child') + 1]) as ChildSettings).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench-sink child: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
else
  main().catch((err) => {
    process.stderr.write(`bench-sink: ${(err as Error).stack}\n`);
    process.exit(1);
  });
