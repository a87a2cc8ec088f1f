import type { Message, PartitionMetadata } from 'kafkajs';
import { groupedMessages } from '../../../kafka/partition-grouping';
import { producerPartitioner } from '../../../kafka/partitioner';
import { mulberry32 } from '../../../simulator/prng';
import { randomMessageKey, randomPartitionMetadata } from '../../support/partition-metadata';

// kafkajs's round-robin (a message without key or partition) starts each partitioner at a random count:
// a fixed start, so that two fresh partitioners answer alike and kafkajs's grouping can be the oracle
jest.mock('kafkajs/src/producer/partitioners/legacy/randomBytes', () => (n: number) => Buffer.alloc(n));

/**
 * Session 13: with the producers' partitioner (producerPartitioner), a send's messages after the first go
 * to the partitioner directly instead of through kafkajs's per-message step (kafka/partition-grouping.ts).
 * The groups must still be kafkajs's own grouping of a plain array, message for message, with the
 * partitioner called once per message in order (round-robin state included); messages whose own
 * partition is set (a number, or anything else) are mixed in. kafkajs's groupMessagesPerPartition is
 * the oracle. Seeded: GROUPING_S13_SEED=n replays.
 */
const SEED = Number(process.env.GROUPING_S13_SEED ?? Math.floor(Math.random() * 2 ** 31));

// eslint-disable-next-line @typescript-eslint/no-require-imports
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (a: {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  messages: Message[];
  partitioner: ReturnType<typeof producerPartitioner>;
}) => Record<string, Message[]>;

function same(a: Record<string, Message[]>, b: Record<string, Message[]>): boolean {
  const keys = Object.keys(b);
  if (Object.keys(a).join() !== keys.join()) return false;
  return keys.every((p) => a[p].length === b[p].length && b[p].every((m, i) => a[p][i] === m));
}

test(`producerPartitioner's sends group as kafkajs's own, message for message (GROUPING_S13_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  for (let round = 0; round < 300; round++) {
    const partitions = 1 + int(round % 4 === 0 ? 1 : 64);
    const partitionMetadata = randomPartitionMetadata(partitions, rnd);
    const messages: Message[] = Array.from({ length: int(round % 10 === 0 ? 800 : 200) }, (_, i) => {
      const key = randomMessageKey(int);
      const own = int(20);
      // a message's own partition: a number mostly; a string, as a caller may write it
      const partition = own === 0 ? int(partitions) : own === 1 ? String(int(partitions)) : undefined;
      return { key, value: Buffer.from(String(i)), ...(partition !== undefined ? { partition } : {}) } as Message;
    });
    const topic = `t${round % 3}`;
    const plain = groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner: producerPartitioner() });
    const fast = groupMessagesPerPartition({
      topic,
      partitionMetadata,
      messages: groupedMessages(messages),
      partitioner: producerPartitioner(),
    });
    expect({ round, same: same(fast, plain) }).toEqual({ round, same: true });
  }
});

test("kafkajs's step runs for the first message of a send only (producerPartitioner)", () => {
  const partitionMetadata = randomPartitionMetadata(3, () => 0.5);
  const messages: Message[] = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, value: null }));
  // kafkajs's step calls Object.assign once per message it groups
  const assign = jest.spyOn(Object, 'assign');
  try {
    const groups = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata,
      messages: groupedMessages(messages),
      partitioner: producerPartitioner(),
    });
    expect(Object.values(groups).reduce((n, g) => n + g.length, 0)).toBe(500);
    expect(assign.mock.calls.length).toBe(1);
  } finally {
    assign.mockRestore();
  }
});
