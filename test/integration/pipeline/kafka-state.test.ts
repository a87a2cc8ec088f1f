import { Kafka, logLevel, type Producer } from 'kafkajs';
import { silentLogger } from '../../../kernel/logger';
import { readLiveIndex } from '../../../pipeline/kafka/live-index';
import { HEADERS, type TopicNames } from '../../../schemas/topics';
import { StateStore, type StateCodec, DEFAULT_LOCK } from '../../../pipeline/kafka/state-store';
import { createTopicsReady, provisionTopics } from '../../../kafka/topics';
import { newRunState, type RunState } from '../../../pipeline/run-state';
import { services, uniqueName } from '../../support/services';

/** Kafka-side building blocks of a run, against the real broker. */
const env = services();
const kafka = new Kafka({ clientId: 'pipeline-kafka-test', brokers: [env.KAFKA_BROKERS], logLevel: logLevel.NOTHING });
const utf8: StateCodec = {
  encodeKey: (k) => Buffer.from(k),
  decodeKey: (b) => b.toString(),
  encodeValue: (s) => Buffer.from(JSON.stringify(s)),
  decodeValue: async (b) => JSON.parse(b.toString()) as RunState,
};

let producer: Producer;
beforeAll(async () => {
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});
afterAll(() => producer.disconnect());

function names(): TopicNames {
  const p = uniqueName('t');
  return { users: `${p}.users`, logins: `${p}.logins`, state: `${p}.state`, deadLetter: `${p}.dlq` };
}

describe('topic provisioning', () => {
  it('creates missing topics with the right cleanup policies and warns about a wrong existing one', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const t = names();
      await createTopicsReady(admin, [
        {
          topic: t.users,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'delete' },
            { name: 'delete.retention.ms', value: String(7 * 86_400_000) },
          ],
        },
      ]);
      const warnings = await provisionTopics(admin, t, { partitions: 2, loginRetentionMs: 3_600_000 }, silentLogger);
      expect(warnings).toEqual([
        expect.stringContaining(`topic ${t.users} has cleanup.policy=delete, expected compact`),
      ]);

      const meta = await admin.fetchTopicMetadata({ topics: [t.logins, t.state] });
      expect(meta.topics.find((x) => x.name === t.logins)!.partitions).toHaveLength(2);
      expect(meta.topics.find((x) => x.name === t.state)!.partitions).toHaveLength(1);
      const cfg = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [t.logins, t.state].map((name) => ({ type: 2, name })),
      });
      const policy = (topic: string) =>
        cfg.resources
          .find((r) => r.resourceName === topic)!
          .configEntries.find((e) => e.configName === 'cleanup.policy')!.configValue;
      expect(policy(t.logins)).toBe('delete');
      expect(policy(t.state)).toBe('compact');
      // a second provisioning of correct topics is silent
      const t2 = names();
      await provisionTopics(admin, t2, { partitions: 1, loginRetentionMs: 3_600_000 }, silentLogger);
      expect(await provisionTopics(admin, t2, { partitions: 1, loginRetentionMs: 3_600_000 }, silentLogger)).toEqual(
        [],
      );
    } finally {
      await admin.disconnect();
    }
  });
});

describe('live users index', () => {
  it('keeps the latest non-tombstone record per key, for this connector only', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const t = names();
    await provisionTopics(admin, t, { partitions: 3, loginRetentionMs: 3_600_000 }, silentLogger);
    await admin.disconnect();
    const msg = (key: string, value: string | null, connector: string, hash = 'h') => ({
      key,
      value,
      headers: { [HEADERS.connector]: connector, [HEADERS.contentHash]: hash },
    });
    await producer.send({
      topic: t.users,
      acks: -1,
      messages: [
        msg('u1', 'v', 'A', 'h1'),
        msg('u2', 'v', 'A'),
        msg('u3', 'v', 'A'),
        msg('x1', 'v', 'B'),
        msg('u1', 'v', 'A', 'h1b'),
        msg('u2', null, 'A'),
        msg('u4', 'v', 'A'),
        msg('u3', 'v', 'B'),
      ],
    });
    const live = await readLiveIndex(kafka, t.users, 'A', (b) => b.toString(), silentLogger);
    expect(Object.fromEntries([...live.keys()].map((k) => [k, live.get(k)!.hash]))).toEqual({ u1: 'h1b', u4: 'h' });
  });
});

describe('run state and lock', () => {
  async function store(topic: string, host = 'host-a', isAlive = () => true, now = Date.now) {
    return new StateStore(kafka, producer, topic, 'conn', utf8, { ...DEFAULT_LOCK, host, isAlive, now });
  }
  async function stateTopic(): Promise<string> {
    const admin = kafka.admin();
    await admin.connect();
    const t = names();
    await provisionTopics(admin, t, { partitions: 1, loginRetentionMs: 3_600_000 }, silentLogger);
    await admin.disconnect();
    return t.state;
  }

  it('commits state the next run (on another host) resumes from; a failure keeps the committed state', async () => {
    const topic = await stateTopic();
    const a = await store(topic);
    const run1 = { ...newRunState('conn', 'r1', 1000), status: 'succeeded' as const, loginHistoryWatermark: 5000 };
    await a.commit(run1);
    await a.recordFailure({ ...newRunState('conn', 'r2', 2000), status: 'failed', message: 'boom' });
    const snap = await (await store(topic, 'host-b')).load();
    expect(snap.committed).toMatchObject({ runId: 'r1', loginHistoryWatermark: 5000 });
    expect(snap.lastRun).toMatchObject({ runId: 'r2', status: 'failed', message: 'boom' });
  });

  it('refuses a second concurrent run, releases, and takes over a dead holder on the same host', async () => {
    const topic = await stateTopic();
    const first = await store(topic, 'host-a');
    await first.acquire(newRunState('conn', 'r1', Date.now()));
    const other = await store(topic, 'host-b');
    await expect(other.acquire(newRunState('conn', 'r2', Date.now()))).rejects.toMatchObject({
      code: 'RUN_IN_PROGRESS',
      message: expect.stringContaining('run r1 on host-a'),
    });
    // same host, holder pid dead (SIGKILLed run): taken over at once
    const sameHostDead = await store(topic, 'host-a', () => false);
    await sameHostDead.acquire(newRunState('conn', 'r3', Date.now()));
    await sameHostDead.release();
    await (await store(topic, 'host-b')).acquire(newRunState('conn', 'r4', Date.now()));
  });

  it('lets a run take an expired lock', async () => {
    const topic = await stateTopic();
    await (await store(topic, 'host-a')).acquire(newRunState('conn', 'r1', Date.now()));
    const later = Date.now() + 120_000;
    await (
      await store(
        topic,
        'host-b',
        () => true,
        () => later,
      )
    ).acquire(newRunState('conn', 'r2', later));
  });

  it('lets exactly one of two racing runs through', async () => {
    const topic = await stateTopic();
    const results = await Promise.allSettled([
      (await store(topic, 'host-a')).acquire(newRunState('conn', 'ra', Date.now())),
      (await store(topic, 'host-b')).acquire(newRunState('conn', 'rb', Date.now())),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
  });
});
