/**
 * The processes of the pipeline benchmark (bench/pipeline.ts), one role each, run from the
 * compiled build (`dist/bench/roles.js`, as production runs) so that their memory is the
 * connector's and not ts-node's. Each role reads its settings as JSON from argv, writes one
 * JSON line of figures to stdout when done, and logs nothing else there.
 *
 *   extract    sim → extractor → mapping stages → Avro encoding, no Kafka: extract rate, and
 *              the CPU time spent in transform + encode, per record
 *   sync       one connector run (sim → Kafka), as `connector sync` does it
 *   sink       the PostgreSQL sink; reports when its group has committed the end of both topics,
 *              once a line on stdin says the topics are complete
 *   produce    our publisher alone, N copies of one real encoded record, to a fresh topic
 *   plain-read the reference for extract: the same Bulk queries, pages read raw (bytes and line
 *              breaks counted, nothing parsed)
 */
import { createInterface } from 'node:readline';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import _ from 'highland';
import { createKafka } from '../kafka/client';
import { Pool } from 'pg';
import { createExtractor } from '../connectors/salesforce';
import { buildLoginQuery, buildUserQuery } from '../connectors/salesforce/soql';
import { startConnector, type ConnectorSettings } from '../pipeline/connector';
import type { RunSummary } from '../pipeline/sync';
import { silentLogger, type Logger } from '../kernel/logger';
import { sleep } from '../kernel/retry';
import {
  createProducer,
  kafkaWriter,
  publishStream,
  type OutRecord,
  type PublisherOptions,
} from '../pipeline/kafka/publisher';
import { contentHash } from '../pipeline/records';
import { createLatestLoginMerger, createLoginEventStage, createUserStage, type StageContext } from '../pipeline/stages';
import { sinkLag } from '../pipeline/observability/sink-lag';
import { LOGINS, USERS } from '../schemas/streams';
import { createPostgresSink, registrySchemaSource } from '../sinks';
import type { TableName } from '../sinks';
import { SINK_HEAP_GROWING_PERCENT, limitHeapGrowth } from '../kernel/heap-growth';
import { peakRssMb, procMemory, type ProcMemory } from './support';
import { bulkSession, completedQueryJob, deleteJob } from './bulk-session';

/** What every role reports besides its own figures. */
export interface ProcessFigures {
  peakRssMb: number;
  cpuSeconds: number;
  atPeakMb: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  /** The kernel's split of the resident memory at the peak (Linux), and the phase a sync run was in. */
  procAtPeakMb?: ProcMemory & { phase: string; v8Spaces: Record<string, number> };
  /** The largest heap used right after a major GC (≈ the live set), MB: how much of the heap is garbage. */
  maxHeapAfterMajorGcMb?: number;
}

export interface ExtractFigures extends ProcessFigures {
  users: number;
  logins: number;
  seconds: number;
  /** CPU time inside the mapping stages and the Avro encoder (synchronous), all records. */
  transformSeconds: number;
}

export interface SyncFigures extends ProcessFigures {
  status: string;
  error?: unknown;
  usersExtracted: number;
  usersPublished: number;
  usersUnchanged: number;
  loginEventsPublished: number;
  deadLettered: number;
  startedAt: number;
  endedAt: number;
  /** When the run entered each phase (epoch ms): logins, then users, then deletions. */
  phases: Partial<Record<'logins' | 'users' | 'deletions' | 'done', number>>;
  usersTombstoned: number;
  /** Which users read the run made (full or incremental), why, and the rows each of its reads returned. */
  usersRead?: RunSummary['usersRead'];
}

export interface SinkFigures extends ProcessFigures {
  startedAt: number;
  caughtUpAt: number;
  /** When the group had committed the end of each topic (epoch ms). */
  caughtUp: { users: number; logins: number };
  rows: { users: number; logins: number };
  /** When both tables had every declared secondary index (epoch ms): a bulk load builds them at its end. */
  indexedAt?: number;
  /** The sink's bulk-load log lines and warnings (epoch ms). */
  events?: { at: number; msg: string; table?: unknown; seconds?: unknown }[];
  /** The batches the sink committed (each one transaction) and the records in them. */
  batches?: { count: number; records: number };
}

export interface ProduceFigures extends ProcessFigures {
  records: number;
  seconds: number;
}

export interface PlainReadFigures extends ProcessFigures {
  rows: number;
  bytes: number;
  seconds: number;
  /** The same, per query. */
  byKind: {
    users: { rows: number; bytes: number; seconds: number };
    logins: { rows: number; bytes: number; seconds: number };
  };
}

export interface SinkRoleSettings {
  brokers: string;
  registryUrl: string;
  databaseUrl: string;
  topics: { users: string; logins: string; deadLetter: string };
  tables: { users: TableName; logins: TableName };
  groupId: string;
  /** Another checkout whose built sink (its dist/sinks) runs in this role: a side-by-side figure of a
   *  sink change with everything else (this role, kafkajs, the measurement) the same. */
  sinkRoot?: string;
  /** The sink's tuning (postgres/sink.ts SinkTuning), for a side-by-side figure of a knob. */
  tuning?: Record<string, unknown>;
}

/**
 * process.memoryUsage() at the highest RSS seen, sampled every 200 ms: what the peak was made of. At
 * a new peak (2 MB above the last one read) the kernel's split is read too: smaps costs a few ms.
 */
let atPeak: NodeJS.MemoryUsage = process.memoryUsage();
let procAtPeak: (ProcMemory & { phase: string; v8Spaces: Record<string, number> }) | undefined;
let phaseNow = 'start';
let maxAfterMajorGc = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (
      ((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind !==
      constants.NODE_PERFORMANCE_GC_MAJOR
    )
      continue;
    maxAfterMajorGc = Math.max(maxAfterMajorGc, process.memoryUsage().heapUsed);
  }
}).observe({ entryTypes: ['gc'] });
setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss <= atPeak.rss) return;
  const read = m.rss > atPeak.rss + 2 * 1048576 || procAtPeak === undefined;
  atPeak = m;
  const p = read ? procMemory() : undefined;
  if (!p) return;
  // V8's spaces (MB committed): the young generation, old space, code, large objects
  const v8Spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((x) => [x.space_name.replace(/_space$/, ''), Math.round(x.space_size / 1048576)]),
  );
  procAtPeak = { ...p, phase: phaseNow, v8Spaces };
}, 200).unref();

function processFigures(): ProcessFigures {
  const u = process.resourceUsage();
  const mb = (n: number) => Math.round(n / 1048576);
  return {
    peakRssMb: peakRssMb(),
    cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6,
    atPeakMb: {
      rss: mb(atPeak.rss),
      heapTotal: mb(atPeak.heapTotal),
      heapUsed: mb(atPeak.heapUsed),
      external: mb(atPeak.external),
      arrayBuffers: mb(atPeak.arrayBuffers),
    },
    procAtPeakMb: procAtPeak,
    maxHeapAfterMajorGcMb: mb(maxAfterMajorGc),
  };
}

const hrSeconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;

/** Extraction with the run's transform and encode, minus Kafka. */
async function extract(settings: ConnectorSettings): Promise<ExtractFigures> {
  // The connector provisions the topics and registers the schemas: its codecs are the run's.
  const connector = await startConnector(settings, { logger: silentLogger });
  const ex = createExtractor(settings.salesforce, { logger: silentLogger });
  try {
    const info = await ex.connect();
    const { catalog, codecs } = connector;
    const user = createUserStage(catalog.userMapping);
    const login = createLoginEventStage(catalog.loginHistoryMapping);
    const merge = createLatestLoginMerger(catalog.userMapping, catalog.loginHistoryMapping);
    const ctx: StageContext = {
      instanceUrl: info.instanceUrl,
      orgId: info.orgId,
      connectorName: settings.connectorName,
      runId: 'bench',
      extractedAt: Date.now(),
    };
    let transform = 0n;
    const t0 = process.hrtime.bigint();
    let logins = 0;
    const loginRows = ex.logins(null);
    for await (const row of loginRows.rows as AsyncIterable<Record<string, string>>) {
      const s = process.hrtime.bigint();
      const r = login(row, ctx);
      if (r.ok) codecs.logins.encodeValue(r.record);
      transform += process.hrtime.bigint() - s;
      logins++;
    }
    await loginRows.done;
    let users = 0;
    const userRows = ex.users();
    for await (const row of userRows.rows as AsyncIterable<Record<string, string>>) {
      const s = process.hrtime.bigint();
      const r = user(row, ctx);
      if (r.ok) {
        contentHash(row, 'bench');
        codecs.users.encodeValue(merge(r.record, null));
      }
      transform += process.hrtime.bigint() - s;
      users++;
    }
    await userRows.done;
    return { users, logins, seconds: hrSeconds(t0), transformSeconds: Number(transform) / 1e9, ...processFigures() };
  } finally {
    await ex.close();
    await connector.close();
  }
}

/** One run; `fullRepublish` false is a routine run: unchanged users are not published again. */
async function sync(a: { settings: ConnectorSettings; fullRepublish: boolean }): Promise<SyncFigures> {
  limitHeapGrowth(); // as bin/commands/sync.ts does for a connector run
  const connector = await startConnector(a.settings, { logger: silentLogger });
  try {
    const startedAt = Date.now();
    const phases: SyncFigures['phases'] = {};
    const onProgress = (p: { phase: keyof SyncFigures['phases'] }) => {
      phases[p.phase] ??= Date.now();
      phaseNow = p.phase;
    };
    const s = await connector.sync({ fullRepublish: a.fullRepublish, onProgress });
    return {
      status: s.status,
      error: s.error,
      usersExtracted: s.usersExtracted,
      usersPublished: s.usersPublished,
      usersUnchanged: s.usersUnchanged,
      loginEventsPublished: s.loginEventsPublished,
      deadLettered: s.deadLettered,
      usersTombstoned: s.usersTombstoned,
      usersRead: s.usersRead,
      startedAt,
      endedAt: Date.now(),
      phases,
      ...processFigures(),
    };
  } finally {
    await connector.close();
  }
}

/**
 * The sink from start to "caught up": the group has committed the end of both topics. The end
 * is only known once the producer is done, so the role waits for a line on stdin first
 * (the orchestrator sends it after the sync; at once when the topics are already full).
 */
async function sink(s: SinkRoleSettings): Promise<SinkFigures> {
  limitHeapGrowth(SINK_HEAP_GROWING_PERCENT); // as bin/commands/sink.ts does: the sink's peak is production's
  // as `connector sink` builds its client (its codecs, kafka/client.ts)
  const kafka = createKafka({ clientId: 'bench-sink', brokers: [s.brokers] }, silentLogger);
  // application_name: the orchestrator finds this sink's PostgreSQL sessions by it (bench/e2e-ab.ts).
  const pool = new Pool({ connectionString: s.databaseUrl, max: 4, application_name: s.groupId.slice(0, 63) });
  pool.on('error', () => undefined);
  const admin = kafka.admin();
  await admin.connect();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const built = s.sinkRoot ? (require(`${s.sinkRoot}/dist/sinks`) as typeof import('../sinks')) : undefined;
  const batches = { count: 0, records: 0 };
  // The sink's bulk-load lines (begun, indexes built) and its warnings, with their times.
  const events: { at: number; msg: string; table?: unknown; seconds?: unknown }[] = [];
  const note = (msg: string, fields?: Record<string, unknown>) =>
    events.push({ at: Date.now(), msg, table: fields?.table, seconds: fields?.seconds });
  const logger: Logger = {
    debug() {},
    info: (msg, fields) => void (msg.startsWith('bulk load') && note(msg, fields)),
    warn: note,
    error: note,
    child: () => logger,
  };
  const sinkHandle = (built?.createPostgresSink ?? createPostgresSink)({
    kafka,
    pool,
    schemas: (built?.registrySchemaSource ?? registrySchemaSource)({ url: s.registryUrl }),
    topics: s.topics,
    tables: s.tables,
    groupId: s.groupId,
    logger,
    tuning: s.tuning,
    onBatch: (b) => {
      batches.count++;
      batches.records += b.records;
    },
  });
  const startedAt = Date.now();
  try {
    await sinkHandle.start();
    process.stdout.write(JSON.stringify({ started: true }) + '\n');
    await firstLine();
    const stopped = sinkHandle.done.then(() => Promise.reject(new Error('the sink stopped before catching up')));
    const caughtUp: Partial<SinkFigures['caughtUp']> = {};
    for (;;) {
      for (const kind of ['users', 'logins'] as const) {
        if (caughtUp[kind] === undefined && (await sinkLag(admin, s.groupId, [s.topics[kind]])) === 0)
          caughtUp[kind] = Date.now();
      }
      if (caughtUp.users !== undefined && caughtUp.logins !== undefined) break;
      await Promise.race([sleep(100), stopped]); // the measurement's polling interval
    }
    const caughtUpAt = Date.now();
    const q = (t: TableName) =>
      pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t.schema}"."${t.name}"`).then((r) => r.rows[0].n);
    const rows = { users: await q(s.tables.users), logins: await q(s.tables.logins) };
    // The load is done when the tables are whole: with their declared secondary indexes too.
    const secondary = (t: TableName) =>
      pool
        .query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_indexes ' +
            "WHERE schemaname = $1 AND tablename = $2 AND indexname NOT LIKE '%pkey'",
          [t.schema, t.name],
        )
        .then((r) => r.rows[0].n);
    while (
      (await secondary(s.tables.users)) < USERS.sink.indexes.length ||
      (await secondary(s.tables.logins)) < LOGINS.sink.indexes.length
    )
      await Promise.race([sleep(100), stopped]);
    const indexedAt = Date.now();
    return {
      startedAt,
      caughtUpAt,
      caughtUp: caughtUp as SinkFigures['caughtUp'],
      rows,
      indexedAt,
      batches,
      events,
      ...processFigures(),
    };
  } finally {
    await sinkHandle.stop();
    await admin.disconnect();
    await pool.end();
  }
}

/** The first line on stdin; rejects when stdin ends first (the orchestrator is gone). */
function firstLine(): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin });
    rl.once('line', (line) => {
      resolve(line); // before close(): its 'close' event must find the promise settled
      rl.close();
    });
    rl.once('close', () => reject(new Error('stdin closed before the orchestrator said the topics are complete')));
  });
}

async function produce(a: {
  brokers: string;
  topic: string;
  key: string;
  value: string;
  count: number;
  publisher: PublisherOptions;
}): Promise<ProduceFigures> {
  // as the connector builds its client: its record encoding and gzip level (kafka/client.ts)
  const kafka = createKafka({ clientId: 'bench-produce', brokers: [a.brokers] }, silentLogger);
  const producer = createProducer(kafka);
  await producer.connect();
  const value = Buffer.from(a.value, 'base64');
  const keyTemplate = Buffer.from(a.key, 'base64');
  let i = 0;
  const source = _<OutRecord>((push, next) => {
    if (i >= a.count) return push(null, _.nil);
    // distinct keys of the real key's size: a compacted topic keeps what a run would keep
    const key = Buffer.from(keyTemplate);
    key.write(String(i++).padStart(10, '0'), key.length - 10, 'latin1');
    push(null, { topic: a.topic, key, value, headers: {} });
    next();
  });
  const t0 = process.hrtime.bigint();
  const records = await publishStream(source, kafkaWriter(producer, a.publisher), a.publisher);
  const seconds = hrSeconds(t0);
  await producer.disconnect();
  return { records, seconds, ...processFigures() };
}

/**
 * The plain read: OAuth password login, the extractor's own two queries (its fields, from its
 * describe), then every result page by locator, bytes counted and thrown away. What is left of
 * the extractor's time above this is parsing, checking and building rows.
 */
async function plainRead(settings: ConnectorSettings): Promise<PlainReadFigures> {
  const sf = settings.salesforce;
  const ex = createExtractor(sf, { logger: silentLogger });
  const info = await ex.connect();
  await ex.close();
  if (sf.auth.flow !== 'password') throw new Error('the plain read logs in with the password flow');
  const session = await bulkSession(sf.loginUrl, sf.auth, { apiVersion: sf.apiVersion });
  const { jobsUrl: base, headers } = session;
  const since = new Date(Date.now() - (sf.loginLookbackDays ?? 30) * 86_400_000);
  const t0 = process.hrtime.bigint();
  let rows = 0;
  let bytes = 0;
  const byKind = {} as PlainReadFigures['byKind'];
  const queries = [
    ['logins', buildLoginQuery(info.loginFields, since)],
    ['users', buildUserQuery(info.userFields, ['active', 'inactive', 'frozen'])],
  ] as const;
  for (const [kind, query] of queries) {
    const k0 = process.hrtime.bigint();
    const [rows0, bytes0] = [rows, bytes];
    const jobId = await completedQueryJob(session, query);
    for (let locator: string | null = null; locator !== 'null';) {
      const res = await fetch(`${base}/${jobId}/results${locator ? `?locator=${encodeURIComponent(locator)}` : ''}`, {
        headers,
      });
      if (!res.ok || !res.body) throw new Error(`plain read: results HTTP ${res.status}`);
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
      rows += Number(res.headers.get('sforce-numberofrecords'));
      locator = res.headers.get('sforce-locator') ?? 'null';
    }
    byKind[kind] = { rows: rows - rows0, bytes: bytes - bytes0, seconds: hrSeconds(k0) };
    await deleteJob(session, jobId);
  }
  return { rows, bytes, seconds: hrSeconds(t0), byKind, ...processFigures() };
}

const roles: Record<string, (arg: never) => Promise<object>> = {
  extract,
  sync,
  sink,
  produce,
  'plain-read': plainRead,
};

if (require.main === module) {
  const [role, json] = process.argv.slice(2);
  const run = roles[role];
  if (!run) {
    process.stderr.write(`unknown role ${role}; one of: ${Object.keys(roles).join(', ')}\n`);
    process.exit(2);
  }
  run(JSON.parse(json) as never)
    .then((figures) => {
      process.stdout.write(JSON.stringify(figures) + '\n');
      process.exit(0);
    })
    .catch((err: Error) => {
      process.stderr.write(`bench role ${role} failed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    });
}
