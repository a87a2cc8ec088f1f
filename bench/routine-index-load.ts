/**
 * The live index load alone (issue 15: the routine run's start phase is the users' index load, and
 * each snapshot stream's phase begins with its own), a command: one users topic and its
 * `.live-index` topic holding --entries entries shaped as a run writes them (key
 * `<connector>\0<18-char Id>`, value `<org>\t<flags><hash>\t<device>`, ~80 % with a login device),
 * written through LiveIndexTopic's own fenced flushes (gzip, 500 a send, 10,000 a transaction),
 * and the watermark at the users topic's end (an empty tail: a routine run's). Then each checkout
 * of --roots loads it, --rounds times, alternating (A B, B A, …), each load in a process of its
 * own with the image's flags (bench/image-flags.ts) through that checkout's dist/
 * (LiveIndexTopic.load, the product's Kafka client), printing the load's wall time, CPU and the
 * process's peak RSS. BENCH_NODE_ARGS adds node flags to the loads (e.g. --cpu-prof
 * --cpu-prof-dir=/tmp/prof).
 *
 *   npm run build && node -r ts-node/register/transpile-only bench/routine-index-load.ts \
 *     --entries 300000 --rounds 2 --roots /work/wt/base,/work/wt/mine [--tail 0]
 *
 * --tail N: N user records in the users topic after the watermark (the tail a load reads too).
 * --apply-only: the entries applied to each root's LiveIndex in one process, no Kafka (applyOnly).
 */
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { silentLogger } from '../kernel/logger';
import { createKafka } from '../kafka/client';
import { createTopicsReady } from '../kafka/topics';
import { openFence } from '../pipeline/kafka/fence';
import { indexTopicOf } from '../pipeline/kafka/live-index';
import { entryValue, LiveIndexTopic } from '../pipeline/kafka/live-index-topic';
import { longId } from '../pipeline/login-ids';
import { HEADERS } from '../schemas/topics';
import { ensureServices, stopServices } from '../devstack/services';
import { imageEnv, IMAGE_NODE_ARGS } from './image-flags';
import { fmt, ROOT } from './support';

const log = (line: string) => process.stderr.write(`[bench:routine-index-load] ${line}\n`);
const ORG = '00D0H0Eoq000001UCA';

interface LoadFigures {
  root: string;
  ms: number;
  cpuMs: number;
  live: number;
  peakRssMb: number;
}

function parseArgs(argv: string[]) {
  const a = { entries: 300_000, rounds: 2, tail: 0, roots: [] as string[] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--entries') a.entries = Number(value);
    else if (flag === '--rounds') a.rounds = Number(value);
    else if (flag === '--tail') a.tail = Number(value);
    else if (flag === '--roots') a.roots = value.split(',').map((r) => path.resolve(r));
    else throw new Error(`unknown option ${flag}; options: --entries N --rounds N --tail N --roots A[,B]`);
  }
  if (a.roots.length < 1) a.roots = [ROOT];
  return a;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** The n-th user Id of an org: 18 characters, its checksum right (packKey packs it to 12 bytes). */
function userId(n: number): string {
  let s = '';
  for (let i = 0; i < 6; i++, n = Math.floor(n / 62)) s = BASE62[n % 62] + s;
  return longId(`0050H0Eoq${s}`);
}

/** A deterministic pseudo-random stream (the entries are the same in every run of the bench). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

const BROWSERS = ['Chrome 125', 'Safari 17', 'Firefox 126', 'Edge 125', 'Unknown'];
const PLATFORMS = ['Mac OSX', 'Windows 10', 'Linux', 'iOS', 'Unknown'];
const APPS = ['Browser', 'Salesforce CLI', 'Data Loader Bulk', 'Salesforce for iOS'];

/** One index entry's value as a run writes it (LiveIndexTopic's keepProjection of a user record). */
function entryOf(n: number, r: () => number): string {
  const hash = Buffer.from(Array.from({ length: 17 }, () => Math.floor(r() * 256)))
    .toString('base64url')
    .slice(0, 22);
  const flags = `${r() < 0.1 ? 't' : 'f'}${r() < 0.05 ? 't' : 'f'}`;
  let device: string | undefined;
  if (r() < 0.8) {
    const pick = (xs: string[]) => xs[Math.floor(r() * xs.length)];
    const ip = Array.from({ length: 4 }, () => Math.floor(r() * 256)).join('.');
    const time = String(1_790_000_000_000 + Math.floor(r() * 10_000_000_000)).padStart(15, '0');
    const loginId = longId(`0Ya0H0Eoq${userId(n).slice(9, 15)}`);
    device = `${time}${loginId}\u0000nXri${JSON.stringify([pick(BROWSERS), pick(PLATFORMS), pick(APPS), ip])}`;
  }
  return entryValue(ORG, flags, hash, device);
}

/** Topics, and the index written through LiveIndexTopic's fenced flushes, as a full run leaves it. */
async function prepare(brokers: string, name: string, entries: number, tail: number): Promise<void> {
  const kafka = createKafka({ brokers: [brokers], clientId: name }, silentLogger);
  const admin = kafka.admin();
  await admin.connect();
  const users = `${name}.users`;
  try {
    await createTopicsReady(admin, [
      { topic: users, numPartitions: 3, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ]);
    const index = new LiveIndexTopic(kafka, users, name, (k) => k.toString('utf8'), silentLogger);
    await index.ensure(undefined);
    const fence = await openFence(kafka, `${name}-fence`, name, { compression: 'gzip' });
    try {
      index.useFence(fence);
      const r = rng(42);
      const prefix = `${name}\u0000`;
      const gen = function* () {
        for (let n = 0; n < entries; n++) {
          yield {
            topic: indexTopicOf(users),
            key: Buffer.from(`${prefix}${userId(n)}`),
            value: Buffer.from(entryOf(n, r)),
            headers: {},
          };
        }
      };
      await index.keepFlushed(gen());
      const start = new Map((await admin.fetchTopicOffsets(users)).map((p) => [p.partition, BigInt(p.high)]));
      // the tail: user records after the watermark, this connector's, with the headers a run sends
      if (tail > 0) {
        const producer = kafka.producer();
        await producer.connect();
        for (let n = 0; n < tail; n += 500) {
          const messages = [];
          for (let i = n; i < Math.min(tail, n + 500); i++) {
            const value = entryOf(i, r).split('\t');
            messages.push({
              key: userId(i),
              value: Buffer.alloc(1200, 1),
              headers: {
                [HEADERS.connector]: name,
                [HEADERS.org]: ORG,
                [HEADERS.contentHash]: value[1].slice(2),
                ...(value[2] ? { [HEADERS.device]: value[2] } : {}),
              },
            });
          }
          await producer.send({ topic: users, messages, compression: 1 });
        }
        await producer.disconnect();
      }
      const last = [...index.entries()];
      await fence.transaction(async ({ writer }) => {
        if (last.length) await writer.write(last);
        await writer.write([index.watermarkRecord(start)]);
      });
    } finally {
      await fence.close();
    }
  } finally {
    await admin.disconnect();
  }
}

/** One load, in this process (the --child mode): that root's LiveIndexTopic and Kafka client. */
async function child(root: string, brokers: string, name: string): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports -- another checkout's build */
  const { LiveIndexTopic: Topic } = require(path.join(root, 'dist/pipeline/kafka/live-index-topic.js')) as {
    LiveIndexTopic: typeof LiveIndexTopic;
  };
  const { createKafka: create } = require(path.join(root, 'dist/kafka/client.js')) as {
    createKafka: typeof createKafka;
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const kafka = create({ brokers: [brokers], clientId: name }, silentLogger);
  const index = new Topic(kafka, `${name}.users`, name, (k) => k.toString('utf8'), silentLogger);
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const loaded = await index.load(ORG);
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  const figures: LoadFigures = {
    root,
    ms: Math.round(ms),
    cpuMs: Math.round((used.user + used.system) / 1000),
    live: loaded.live.size,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function load(root: string, brokers: string, name: string): Promise<LoadFigures> {
  const nodeArgs = [...IMAGE_NODE_ARGS, ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const script = path.join(ROOT, 'dist/bench/routine-index-load.js');
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [...nodeArgs, script, '--child', root, brokers, name], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: imageEnv(),
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.once('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as LoadFigures)
        : reject(new Error(`load exited ${code}`)),
    );
  });
}

/**
 * --apply-only: no Kafka. The entries (as strings, as the load's onMessage gives them) applied to a
 * new LiveIndex of each root in turn (its applyEntry and LiveIndex, the same process), --rounds
 * times alternating: the per-entry work of a load (packKey, packHash, the device's compaction, the
 * arena map's set) apart from the fetch and its decoding. Prints the median CPU an entry.
 */
function applyOnly(entries: number, rounds: number, roots: string[]): void {
  type Topic = typeof import('../pipeline/kafka/live-index-topic');
  type Index = typeof import('../pipeline/kafka/live-index');
  /* eslint-disable @typescript-eslint/no-require-imports -- each checkout's build */
  const builds = roots.map((root) => ({
    root,
    topic: require(path.join(root, 'dist/pipeline/kafka/live-index-topic.js')) as Topic,
    index: require(path.join(root, 'dist/pipeline/kafka/live-index.js')) as Index,
  }));
  /* eslint-enable @typescript-eslint/no-require-imports */
  const r = rng(42);
  const keys = Array.from({ length: entries }, (_, n) => userId(n));
  const values = keys.map((_, n) => entryOf(n, r));
  const cpu: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? builds : [...builds].reverse();
    for (const b of order) {
      const live = new b.index.LiveIndex();
      live.reserve(entries);
      const start = process.cpuUsage();
      for (let i = 0; i < entries; i++) b.topic.applyEntry(live, keys[i], values[i], ORG);
      const used = process.cpuUsage(start);
      (cpu[b.root] ??= []).push((used.user + used.system) / entries);
      if (live.size !== entries) throw new Error(`${b.root}: ${live.size} live of ${entries}`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)];
  for (const b of builds) {
    const xs = cpu[b.root];
    log(
      `${path.basename(b.root)}: µs CPU an entry ${xs.map((x) => x.toFixed(2)).join(' / ')}, ` +
        `median ${median(xs).toFixed(2)}`,
    );
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3], process.argv[4], process.argv[5]);
  if (process.argv.includes('--apply-only')) {
    const argv = process.argv.slice(2).filter((a) => a !== '--apply-only');
    const args = parseArgs(argv);
    return applyOnly(args.entries, args.rounds, args.roots);
  }
  const args = parseArgs(process.argv.slice(2));
  const services = await ensureServices((line) => log(line));
  const brokers = services.endpoints.KAFKA_BROKERS;
  const name = `benchidx-${Date.now().toString(36)}`;
  const kafka = new Kafka({ clientId: 'bench-index-load', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    log(`writing ${fmt(args.entries)} index entries (and a tail of ${fmt(args.tail)})…`);
    await prepare(brokers, name, args.entries, args.tail);
    const results: LoadFigures[] = [];
    for (let round = 0; round < args.rounds; round++) {
      const order = round % 2 === 0 ? args.roots : [...args.roots].reverse();
      for (const root of order) {
        const f = await load(root, brokers, name);
        results.push(f);
        log(`round ${round + 1}, ${path.basename(root)}: ${JSON.stringify(f)}`);
      }
    }
    const load1 = os.loadavg()[0].toFixed(1);
    const lines = [
      `| build | load ms (each) | CPU ms (each) | µs CPU an entry | peak RSS MB |`,
      '|---|---|---|---|---|',
      ...args.roots.map((root) => {
        const mine = results.filter((r) => r.root === root);
        const perEntry = mine.map((r) => ((r.cpuMs * 1000) / args.entries).toFixed(2)).join(' / ');
        return (
          `| ${path.basename(root)} | ${mine.map((r) => r.ms).join(' / ')} | ` +
          `${mine.map((r) => r.cpuMs).join(' / ')} | ` +
          `${perEntry} | ${mine.map((r) => r.peakRssMb).join(' / ')} |`
        );
      }),
      `(load average at the end: ${load1})`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(name));
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    await stopServices(services.started);
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
