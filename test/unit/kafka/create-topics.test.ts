import type { Admin, ITopicConfig } from 'kafkajs';
import { silentLogger } from '../../../kernel/logger';
import { createTopicsReady, provisionTopics } from '../../../kafka/topics';
import { DEFAULT_TOPIC_SETTINGS } from '../../../schemas/topics';

/**
 * A topic just created is not yet in every broker's metadata (KRaft propagates it a moment
 * later). kafkajs's createTopics({ waitForLeaders: true }) asks for its metadata at once and gives
 * up on UNKNOWN_TOPIC_OR_PARTITION (it waits out only LEADER_NOT_AVAILABLE: admin/index.js), which
 * failed a CI run. This admin behaves like that broker: `lagging` metadata answers before the topic
 * is known, then partitions without a leader, then ready.
 */
function laggingAdmin(lagging: number): Admin & { calls: string[] } {
  const created = new Set<string>();
  let asked = 0;
  const unknown = () =>
    Object.assign(new Error('This server does not host this topic-partition'), {
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
      retriable: true,
    });
  const calls: string[] = [];
  const admin = {
    calls,
    listTopics: async () => [...created],
    createTopics: async ({ topics, waitForLeaders }: { topics: ITopicConfig[]; waitForLeaders?: boolean }) => {
      calls.push(`create(${waitForLeaders ? 'wait' : 'nowait'})`);
      for (const t of topics) created.add(t.topic);
      if (waitForLeaders && lagging > 0) throw unknown(); // what kafkajs does then
      return true;
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      asked++;
      calls.push('metadata');
      if (asked <= lagging) throw unknown();
      const leader = asked === lagging + 1 ? -1 : 1;
      return {
        topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader, replicas: [1], isr: [1] }] })),
      };
    },
    describeConfigs: async () => ({ resources: [] }),
  };
  return admin as unknown as Admin & { calls: string[] };
}

const names = { users: 'u', logins: 'l', state: 's', deadLetter: 'd' };

it('provisioning waits until the new topics have leaders, through metadata that does not know them yet', async () => {
  for (const lagging of [0, 1, 3]) {
    const admin = laggingAdmin(lagging);
    await expect(provisionTopics(admin, names, DEFAULT_TOPIC_SETTINGS, silentLogger)).resolves.toEqual([]);
    expect(admin.calls.filter((c) => c === 'metadata').length).toBe(lagging + 2);
  }
});

it('a topic that never gets a leader fails with a retriable error naming it, once the wait is over', async () => {
  const admin = laggingAdmin(Number.POSITIVE_INFINITY);
  const err = await createTopicsReady(admin, [{ topic: 'never', numPartitions: 1 }], { timeoutMs: 300 }).catch(
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: 'KAFKA_TOPIC_NOT_READY', retriable: true });
  expect((err as Error).message).toContain('never');
});
