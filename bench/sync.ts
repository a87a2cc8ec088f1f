/**
 * Sync benchmark (a script, not a test): N users (default 1,000,000) and M login events from the
 * Salesforce simulator through the whole sync run into Kafka, with Kafka's own
 * ProducerPerformance run on the same broker, same record count and record size, in the same
 * run, so the ratio is measured side by side.
 *
 *   node -r ts-node/register/transpile-only bench/sync.ts            (or: npm run bench:sync)
 *   BENCH_USERS=200000 BENCH_LOGINS=100000 node … bench/sync.ts
 *
 * Prints, for the connector process: end-to-end records/s and peak RSS; for the producer stage
 * alone: records/s of our publisher (pre-encoded records) next to ProducerPerformance.
 * Starts Kafka and the registry when they are not running (test/infra) and stops what it started.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import _ from 'highland';
import { Kafka, logLevel } from 'kafkajs';
import { startConnector, type ConnectorSettings } from '../pipeline/connector';
import { silentLogger } from '../pipeline/core/logger';
import { DEFAULT_DELETION_GUARD } from '../pipeline/guard';
import { createProducer, DEFAULT_PUBLISHER, kafkaWriter, publishStream, type OutRecord } from '../pipeline/kafka/publisher';
import { CACHE_DIR, VERSIONS } from '../test/infra/env';
import { findJava } from '../test/infra/java';
import { ensureServices, stopServices } from '../test/infra/services';
import { firstJsonLine, fmt, peakRssMb, ROOT, runChild, spawnSimulator, TS_NODE } from './support';
import { spawn } from 'node:child_process';

const USERS = Number(process.env.BENCH_USERS ?? 1_000_000);
const LOGINS = Number(process.env.BENCH_LOGINS ?? 200_000);

interface SyncFigures {
  summary: { usersExtracted: number; usersPublished: number; loginEventsPublished: number; durationMs: number; status: string; error?: unknown };
  peakRssMb: number;
  rssSamplesMb: number[];
}

/** Child: one full-republish sync, then its figures as JSON. */
async function childSync(file: string): Promise<void> {
  const settings = JSON.parse(fs.readFileSync(file, 'utf8')) as ConnectorSettings;
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(Math.round(process.memoryUsage().rss / 1048576)), 1000);
  const connector = await startConnector(settings, { logger: silentLogger });
  const summary = await connector.sync({ fullRepublish: true });
  clearInterval(timer);
  await connector.close();
  const out: SyncFigures = { summary, peakRssMb: peakRssMb(), rssSamplesMb: samples };
  process.stdout.write(JSON.stringify(out) + '\n');
}

/** Child: our publisher alone, N copies of one real record, to a fresh topic. */
async function childProduce(brokers: string, topic: string, payloadFile: string, count: number, compression: 'gzip' | 'none'): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-produce', brokers: [brokers], logLevel: logLevel.NOTHING });
  const producer = createProducer(kafka);
  await producer.connect();
  const value = fs.readFileSync(payloadFile);
  let i = 0;
  const source = _<OutRecord>((push, next) => {
    if (i >= count) return push(null, _.nil);
    push(null, { topic, key: Buffer.from(`005${String(i++).padStart(15, '0')}`), value, headers: {} });
    next();
  });
  const t0 = process.hrtime.bigint();
  const n = await publishStream(source, kafkaWriter(producer, { compression }), { ...DEFAULT_PUBLISHER, compression });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await producer.disconnect();
  process.stdout.write(JSON.stringify({ records: n, seconds, recordsPerSecond: n / seconds, peakRssMb: peakRssMb() }) + '\n');
}

async function sampleRecord(brokers: string, topic: string): Promise<{ avgBytes: number; sample: Buffer }> {
  const kafka = new Kafka({ clientId: 'bench-sample', brokers: [brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-sample-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const sizes: number[] = [];
  let sample = Buffer.alloc(0);
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value || sizes.length >= 2000) return;
        sizes.push(message.value.length + (message.key?.length ?? 0));
        if (sizes.length === 1000) sample = message.value;
        if (sizes.length === 2000) resolve();
      },
    });
  });
  await consumer.disconnect();
  return { avgBytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length), sample };
}

async function producerPerformance(brokers: string, topic: string, count: number, size: number, compression: string): Promise<number> {
  const java = findJava(17, 'KAFKA_JAVA_HOME');
  const out = await runChild(java, ['-Xmx512m', '-cp', path.join(CACHE_DIR, `kafka-${VERSIONS.kafka}`, 'libs', '*'), 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', topic, '--num-records', String(count), '--record-size', String(size), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all', 'enable.idempotence=true', `compression.type=${compression}`, 'linger.ms=20']);
  const m = /(\d+) records sent, ([\d.]+) records\/sec/.exec(out.trim().split('\n').pop() ?? '');
  if (!m) throw new Error(`could not read ProducerPerformance's result:\n${out.slice(-500)}`);
  return Number(m[2]);
}

async function main(): Promise<void> {
  const services = await ensureServices();
  const sim = await spawnSimulator(USERS, LOGINS);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sync-'));
  try {
    const p = `bench-${Date.now()}`;
    const brokers = services.endpoints.KAFKA_BROKERS;
    const c = sim.credentials;
    const settings: ConnectorSettings = {
      connectorName: p,
      salesforce: { loginUrl: sim.url, auth: { flow: 'password', consumerKey: c.consumerKey, consumerSecret: c.consumerSecret, username: c.username, password: c.password, securityToken: c.securityToken }, loginLookbackDays: 200, pollInitialMs: 100, pollMaxMs: 500 },
      kafka: { brokers: [brokers], clientId: p },
      registry: { url: services.endpoints.SCHEMA_REGISTRY_URL },
      topics: { users: `${p}.users`, logins: `${p}.logins`, state: `${p}.state`, deadLetter: `${p}.dlq` },
      topicSettings: { partitions: 3, loginRetentionMs: 24 * 3600 * 1000 },
      guard: DEFAULT_DELETION_GUARD,
      publisher: DEFAULT_PUBLISHER,
    };
    fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings));

    console.error(`sync: ${fmt(USERS)} users, ${fmt(LOGINS)} login events (simulator in its own process)…`);
    const sync = JSON.parse(await runChild(process.execPath, [...TS_NODE, __filename, '--child-sync', path.join(dir, 'settings.json')])) as SyncFigures;
    if (sync.summary.status !== 'succeeded') throw new Error(`the sync failed: ${JSON.stringify(sync.summary.error)}`);
    const records = sync.summary.usersExtracted + sync.summary.loginEventsPublished;
    const e2e = records / (sync.summary.durationMs / 1000);

    const { avgBytes, sample } = await sampleRecord(brokers, settings.topics.users);
    fs.writeFileSync(path.join(dir, 'payload.bin'), sample);
    const n = USERS;
    const admin = new Kafka({ clientId: 'bench-admin', brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: ['none', 'gzip'].flatMap((c) => [`${p}.produce-${c}`, `${p}.pp-${c}`]).map((topic) => ({ topic, numPartitions: 3 })) });
    await admin.disconnect();
    const ours: Record<string, { recordsPerSecond: number }> = {};
    for (const compression of ['none', 'gzip'] as const) {
      const topic = `${p}.produce-${compression}`;
      const child = spawn(process.execPath, [...TS_NODE, __filename, '--child-produce', brokers, topic, path.join(dir, 'payload.bin'), String(n), compression], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      ours[compression] = await firstJsonLine(child);
    }
    const pp: Record<string, number> = {};
    for (const compression of ['none', 'gzip']) pp[compression] = await producerPerformance(brokers, `${p}.pp-${compression}`, n, sample.length, compression);

    const rows = [
      ['end to end (sync run)', `${fmt(records)} records (${fmt(sync.summary.usersExtracted)} users + ${fmt(sync.summary.loginEventsPublished)} logins)`, `${fmt(e2e)} rec/s`, `${(sync.summary.durationMs / 1000).toFixed(1)} s`, `peak RSS ${sync.peakRssMb} MB`],
      ['producer stage, ours, no compression', `${fmt(n)} × ${sample.length} B`, `${fmt(ours.none.recordsPerSecond)} rec/s`, '', ''],
      ['ProducerPerformance, no compression', `${fmt(n)} × ${sample.length} B`, `${fmt(pp.none)} rec/s`, `ratio ${(ours.none.recordsPerSecond / pp.none).toFixed(2)}`, ''],
      ['producer stage, ours, gzip', `${fmt(n)} × ${sample.length} B`, `${fmt(ours.gzip.recordsPerSecond)} rec/s`, '', ''],
      ['ProducerPerformance, gzip', `${fmt(n)} × ${sample.length} B`, `${fmt(pp.gzip)} rec/s`, `ratio ${(ours.gzip.recordsPerSecond / pp.gzip).toFixed(2)}`, ''],
    ];
    console.log(`\n| measure | records | rate | | |\n|---|---|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
    console.log(`\naverage user record ${avgBytes} B (key + value); connector RSS samples (MB, 1/s): ${sync.rssSamplesMb.join(' ')}`);
  } finally {
    await sim.stop();
    await stopServices(services.started);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const [mode, ...args] = process.argv.slice(2);
const run = mode === '--child-sync' ? childSync(args[0])
  : mode === '--child-produce' ? childProduce(args[0], args[1], args[2], Number(args[3]), args[4] as 'gzip' | 'none')
  : main();
run.catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
