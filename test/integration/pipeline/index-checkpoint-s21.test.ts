import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { createTopicsReady } from '../../../kafka/topics';
import { silentLogger, type Logger } from '../../../kernel/logger';
import type { LiveIndex, LiveUser } from '../../../pipeline/kafka/live-index';
import { INDEX_TOMBSTONE_RETENTION_MS } from '../../../pipeline/kafka/index-read';
import { entryValue, LiveIndexTopic, type LoadedLive } from '../../../pipeline/kafka/live-index-topic';
import { createProducer } from '../../../pipeline/kafka/publisher';
import { longId } from '../../../pipeline/login-ids';
import { HEADERS } from '../../../schemas/topics';
import { kafkaClient } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';
import { uniqueName } from '../../support/services';

/**
 * Issue 15, session 21: a load with the index's checkpoint (pipeline/kafka/index-read.ts) gives
 * exactly what a load that reads the index topic from its start gives (the oracle: the same
 * LiveIndexTopic without checkpoints), whatever happened to the topic between loads, as an
 * operator's months would have it: entries added, replaced, deleted (tombstones), other orgs,
 * watermarks moved, users records in the tail, the index topic deleted and created again (with
 * fewer or more records than the checkpoint knew), the checkpoint file damaged or taken from
 * another org. (Records deleted below the checkpoint cannot happen: Kafka refuses DeleteRecords on
 * a compacted topic.) A random sequence of those; replay with SYNC_SEED=<n>.
 */
const ORG = '00D000000000001EAA';
const OTHER = '00D000000000002EAA';
const connector = 'ckpt-test';
const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
let kafka: Kafka;
let producer: Producer;
let topics: string[] = [];
let dir: string;

beforeEach(async () => {
  kafka = kafkaClient();
  producer = createProducer(kafka);
  await producer.connect();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-it-'));
});

afterEach(async () => {
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  topics = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

function contents(live: LiveIndex): Map<string, LiveUser | string> {
  const out = new Map<string, LiveUser | string>();
  for (const k of live.keys()) out.set(k, live.get(k)!);
  for (const k of live.foreignKeys()) out.set(k, live.foreignOrg(k)!);
  return out;
}

/** What a load gives that a run uses. */
function outcome(l: LoadedLive) {
  const refresh = [...l.refresh()].map((r) => [r.key.toString('utf8'), r.value?.toString('utf8') ?? null]);
  refresh.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return { source: l.source, tailRecords: l.tailRecords, watermark: [...l.watermark], live: contents(l.live), refresh };
}

it('a load from the checkpoint equals a load from the topic, through a random history of the index topic', async () => {
  const rnd = seededRandom('index-checkpoint history');
  const users = `${uniqueName('ckpt')}.users`;
  const indexTopic = `${users}.live-index`;
  topics.push(users, indexTopic);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [
      { topic: users, numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ]);
    const ids = Array.from({ length: 40 + Math.floor(rnd.next() * 200) }, () => {
      let id = '005';
      for (let c = 0; c < 12; c++) id += rnd.pick([...B62]);
      return longId(id);
    });
    const ensure = async () => {
      const index = new LiveIndexTopic(kafka, users, connector, (b) => b.toString('utf8'), silentLogger);
      await index.ensure(1);
    };
    await ensure();
    const entry = (id: string) => {
      const roll = rnd.next();
      if (roll < 0.15) return null;
      const org = roll < 0.25 ? OTHER : ORG;
      const time = String(Math.floor(rnd.next() * 1e15)).padStart(15, '0');
      const values = JSON.stringify(['Chrome', null, `10.0.0.${Math.floor(rnd.next() * 256)}`]);
      const device = rnd.next() < 0.7 ? `${time}${id}\u0000abcd${values}` : undefined;
      return entryValue(org, rnd.pick([undefined, 'tf', 'ff']), Math.floor(rnd.next() * 1e15).toString(36), device);
    };
    const writeEntries = async (n: number) => {
      const messages = Array.from({ length: n }, () => {
        const id = rnd.pick(ids);
        return { key: `${connector}\u0000${id}`, value: entry(id) };
      });
      await producer.send({ topic: indexTopic, messages });
    };
    const writeMark = async (withId = rnd.next() < 0.85) => {
      const ends = await admin.fetchTopicOffsets(users);
      // as a run's commit writes it (with its id), or as one written before session 21 (none)
      const offsets = new Map(ends.map((p) => [p.partition, BigInt(p.high)]));
      const mark = new LiveIndexTopic(kafka, users, connector, (b) => b.toString('utf8'), silentLogger).watermarkRecord(
        offsets,
      );
      const old = JSON.stringify({ topic: users, offsets: Object.fromEntries(ends.map((p) => [p.partition, p.high])) });
      const value = withId ? mark.value : old;
      await producer.send({ topic: indexTopic, messages: [{ key: mark.key, value }] });
    };
    const writeUsers = async (n: number) => {
      const messages = Array.from({ length: n }, () => {
        const id = rnd.pick(ids);
        const gone = rnd.next() < 0.2;
        return {
          key: id,
          value: gone ? null : 'v',
          headers: gone
            ? {}
            : { [HEADERS.connector]: connector, [HEADERS.org]: ORG, [HEADERS.contentHash]: `h${rnd.next()}` },
        };
      });
      await producer.send({ topic: users, messages });
    };
    const warnings: string[] = [];
    const used: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (msg: string) => void warnings.push(msg),
      info: (msg: string) => void (msg.includes('from its checkpoint') && used.push(msg)),
    };
    const file = () => fs.readdirSync(dir).map((f) => path.join(dir, f))[0];
    /** A load with the checkpoint equals one from the topic's start; whether the checkpoint was used. */
    const loadsAlike = async (orgId: string, step: number | string): Promise<boolean> => {
      const open = (l: Logger) => new LiveIndexTopic(kafka, users, connector, (b) => b.toString('utf8'), l);
      const oracle = await open(silentLogger).load(orgId);
      const cached = open(logger);
      cached.useCheckpoints(dir);
      const before = used.length;
      const got = await cached.load(orgId);
      const context = { seed: rnd.seed, step, steps: steps.join(' ') };
      expect({ ...context, load: outcome(got) }).toEqual({ ...context, load: outcome(oracle) });
      return used.length > before;
    };
    const steps: string[] = [];
    let fromCheckpoint = 0;
    for (let step = 0; step < 30; step++) {
      const what = rnd.pick(['entries', 'mark', 'mark', 'users', 'recreate', 'damage', 'org', 'none']);
      steps.push(what);
      if (what === 'entries') await writeEntries(1 + Math.floor(rnd.next() * 60));
      else if (what === 'mark') await writeMark();
      else if (what === 'users') await writeUsers(1 + Math.floor(rnd.next() * 20));
      else if (what === 'recreate') {
        const [was] = await admin.fetchTopicOffsets(indexTopic);
        await admin.deleteTopics({ topics: [indexTopic] });
        await ensure();
        // fewer records than before, or as many, or more: the checkpoint's last offset may exist again
        await writeEntries(Math.floor(rnd.next() * 2.2 * Number(was.high)));
        if (rnd.next() < 0.5) await writeMark();
      } else if (what === 'damage' && file()) {
        const bytes = fs.readFileSync(file());
        bytes[Math.floor(rnd.next() * bytes.length)] ^= 0x5a;
        fs.writeFileSync(file(), bytes);
      }
      if (await loadsAlike(what === 'org' ? OTHER : ORG, step)) fromCheckpoint++;
    }
    // then, whatever the history left: a run's commit (entries and its watermark) after a load
    // that wrote a checkpoint: this load must take it
    await writeMark(true);
    await loadsAlike(ORG, 'tail 1');
    await writeEntries(5);
    await writeMark(true);
    expect({ seed: rnd.seed, fromCheckpoint, used: await loadsAlike(ORG, 'tail 2') }).toEqual({
      seed: rnd.seed,
      fromCheckpoint,
      used: true,
    });
  } finally {
    await admin.disconnect();
  }
});

/** What a test of one index topic gets: the topics' names, a connected admin, and an index to load. */
interface IndexTopicCase {
  users: string;
  indexTopic: string;
  admin: Admin;
  /** A new LiveIndexTopic of `users` (with checkpoints in `dir` unless told otherwise). */
  open(logger?: Logger, checkpoints?: boolean): LiveIndexTopic;
}

/** A users topic (one partition) and its index topic, removed after the file, around `body`. */
async function withIndexTopic(name: string, body: (c: IndexTopicCase) => Promise<void>): Promise<void> {
  const users = `${uniqueName(name)}.users`;
  const indexTopic = `${users}.live-index`;
  topics.push(users, indexTopic);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic: users, numPartitions: 1 }]);
    const open = (logger: Logger = silentLogger, checkpoints = true) => {
      const index = new LiveIndexTopic(kafka, users, connector, (b) => b.toString('utf8'), logger);
      if (checkpoints) index.useCheckpoints(dir);
      return index;
    };
    await body({ users, indexTopic, admin, open });
  } finally {
    jest.restoreAllMocks();
    await admin.disconnect();
  }
}

it('an index topic recreated with the same last watermark at its offset is not taken for the old one', async () => {
  // Kafka wiped (or the index topic deleted) and a run writing as many entries and the same
  // watermark as before: the checkpoint's last record matches byte for byte unless each
  // watermark record is one of its own
  await withIndexTopic('ckpt-same', async ({ indexTopic, admin, open: openIndex }) => {
    const open = () => openIndex(silentLogger, false);
    const [a, b, c] = ['005000000000001AAA', '005000000000002AAA', '005000000000003AAA'];
    const write = async (ids: string[]) => {
      const index = open();
      await index.ensure(1);
      const messages = ids.map((id) => ({
        key: `${connector}\u0000${id}`,
        value: entryValue(ORG, 'tf', `h-${id}`, undefined),
      }));
      const mark = index.watermarkRecord(new Map([[0, 0n]]));
      await producer.send({ topic: indexTopic, messages: [...messages, { key: mark.key, value: mark.value }] });
    };
    await write([a, b]);
    const first = open();
    first.useCheckpoints(dir);
    expect([...(await first.load(ORG)).live.keys()].sort()).toEqual([a, b]);
    expect(fs.readdirSync(dir)).toHaveLength(1); // the checkpoint the next load must not take

    await admin.deleteTopics({ topics: [indexTopic] });
    await write([a, c]);
    const refused: unknown[] = [];
    const again = openIndex({
      ...silentLogger,
      warn: (_msg: string, f?: Record<string, unknown>) => void refused.push(f?.reason),
    });
    const oracle = await open().load(ORG);
    expect([...oracle.live.keys()].sort()).toEqual([a, c]);
    expect(outcome(await again.load(ORG))).toEqual(outcome(oracle));
    expect(refused).toEqual([expect.stringMatching(/is no longer the same in the topic/)]);
  });
});

it('a checkpoint as old as the index topic keeps its tombstones is not used', async () => {
  // records after the checkpoint may hold tombstones, which compaction removes once
  // delete.retention.ms has passed: a read from the checkpoint would keep those entries live
  await withIndexTopic('ckpt-age', async ({ indexTopic, open: openIndex }) => {
    const used: string[] = [];
    const refused: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (msg: string, f?: Record<string, unknown>) => void refused.push(`${msg} ${String(f?.reason)}`),
      info: (msg: string) => void (msg.includes('from its checkpoint') && used.push(msg)),
    };
    const open = () => openIndex(logger);
    await open().ensure(1); // a week of tombstones (INDEX_TOMBSTONE_RETENTION_MS)
    const write = async () => {
      const mark = open().watermarkRecord(new Map([[0, 0n]]));
      const entry = { key: `${connector}\u0000005000000000001AAA`, value: entryValue(ORG, 'tf', 'h', undefined) };
      await producer.send({ topic: indexTopic, messages: [entry, { key: mark.key, value: mark.value }] });
    };
    await write();
    await open().load(ORG); // writes the checkpoint
    await write();
    const now = Date.now();
    const later = (ms: number) => jest.spyOn(Date, 'now').mockReturnValue(now + ms);
    later(INDEX_TOMBSTONE_RETENTION_MS - 2 * 3_600_000);
    const before = await open().load(ORG); // used (and written again, dated then)
    jest.restoreAllMocks();
    expect(used).toHaveLength(1);
    await write();
    later(2 * INDEX_TOMBSTONE_RETENTION_MS - 1_800_000);
    const after = await open().load(ORG);
    jest.restoreAllMocks();
    expect(used).toHaveLength(1);
    expect(refused).toEqual([expect.stringMatching(/not used.*old, and the index topic keeps a tombstone 168.0 h/)]);
    expect(outcome(after).live).toEqual(outcome(before).live);
  });
});

it('a refused checkpoint is removed, even when the load writes no new one', async () => {
  // refused for its age under a topic that keeps tombstones a day, it must not be taken later
  // (after the operator raised delete.retention.ms, or the clock moved back)
  await withIndexTopic('ckpt-rm', async ({ indexTopic, open }) => {
    await open().ensure(1);
    const mark = open().watermarkRecord(new Map([[0, 0n]]));
    const entry = (h: string) => ({
      key: `${connector}\u0000005000000000001AAA`,
      value: entryValue(ORG, 'tf', h, undefined),
    });
    await producer.send({ topic: indexTopic, messages: [entry('h1'), { key: mark.key, value: mark.value }] });
    await open().load(ORG);
    expect(fs.readdirSync(dir)).toHaveLength(1);
    // a failed run's flush: the last record is an entry, so no load writes a checkpoint now
    await producer.send({ topic: indexTopic, messages: [entry('h2')] });
    jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 2 * INDEX_TOMBSTONE_RETENTION_MS);
    try {
      expect((await open().load(ORG)).live.get('005000000000001AAA')?.hash).toBe('h2');
    } finally {
      jest.restoreAllMocks();
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
