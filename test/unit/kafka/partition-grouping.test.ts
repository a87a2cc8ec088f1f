import { Partitioners, type Message, type PartitionMetadata } from 'kafkajs';
import { groupedMessages } from '../../../kafka/partition-grouping';
import { keyPartitioner } from '../../../kafka/partitioner';
import { mulberry32 } from '../../../simulator/prng';
import { randomMessageKey, randomPartitionMetadata } from '../../support/partition-metadata';

/**
 * kafkajs groups a send's messages by partition with `messages.reduce`, copying the partition's list for
 * every message (quadratic). `groupedMessages` gives kafkajs an array whose grouping is linear: the
 * partitions, the lists and their order must be exactly kafkajs's own grouping of a plain array, with
 * the partitioner called once per message, in order, with the same arguments (a round-robin partitioner
 * keeps state). kafkajs's own groupMessagesPerPartition is the oracle. Seeded: GROUPING_SEED=n replays.
 */
const SEED = Number(process.env.GROUPING_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Partitioner = (a: { topic: string; partitionMetadata: PartitionMetadata[]; message: Message }) => number;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (a: {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  messages: Message[];
  partitioner: Partitioner;
}) => Record<string, Message[]>;

/** The same partitions, in the same order, each with the same messages (by identity) in the same order. */
function same(a: Record<string, Message[]>, b: Record<string, Message[]>): boolean {
  const keys = Object.keys(b);
  if (Object.keys(a).join() !== keys.join()) return false;
  return keys.every((p) => a[p].length === b[p].length && b[p].every((m, i) => a[p][i] === m));
}

/** A partitioner that records its calls and answers from a script (the same answers on each replay). */
function scripted(answers: number[]) {
  const calls: unknown[][] = [];
  let i = 0;
  const fn: Partitioner = ({ topic, partitionMetadata, message }) => {
    calls.push([topic, partitionMetadata, message]);
    return answers[i++ % answers.length];
  };
  return { fn, calls };
}

test(`the groups are kafkajs's own, message for message (GROUPING_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  for (let round = 0; round < 200; round++) {
    const partitions = 1 + int(round % 4 === 0 ? 1 : 64);
    const partitionMetadata = randomPartitionMetadata(partitions, rnd);
    const messages: Message[] = Array.from({ length: int(round % 10 === 0 ? 800 : 200) }, (_, i) => {
      const key = randomMessageKey(int);
      return { key, value: Buffer.from(String(i)), ...(int(20) === 0 ? { partition: int(partitions) } : {}) };
    });
    const topic = `t${round % 3}`;
    // a scripted partitioner (any partition number, round-robin state) and the producers' real ones
    const script = Array.from({ length: 1 + int(50) }, () => int(partitions));
    const a = scripted(script);
    const b = scripted(script);
    const theirs = groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner: a.fn });
    const ours = groupMessagesPerPartition({
      topic,
      partitionMetadata,
      messages: groupedMessages(messages),
      partitioner: b.fn,
    });
    expect(same(ours, theirs)).toBe(true);
    expect(b.calls).toHaveLength(messages.length);
    expect(b.calls.every((c, i) => c[0] === topic && c[1] === partitionMetadata && c[2] === messages[i])).toBe(true);
    const keyed = messages.filter((m) => m.key !== null);
    for (const make of [keyPartitioner, Partitioners.DefaultPartitioner]) {
      const plain = groupMessagesPerPartition({ topic, partitionMetadata, messages: keyed, partitioner: make() });
      const fast = groupMessagesPerPartition({
        topic,
        partitionMetadata,
        messages: groupedMessages(keyed),
        partitioner: make(),
      });
      expect(same(fast, plain)).toBe(true);
    }
  }
});

test('grouping a large send into one partition takes linear time (kafkajs copies the list per message)', () => {
  // 20,000 messages into one partition: kafkajs's reduce copies 200 million list elements (1.6 GB of
  // arrays: 12 s under jest on the loaded 2-core machine); a linear grouping takes milliseconds.
  const messages: Message[] = Array.from({ length: 20_000 }, (_, i) => ({ key: `k${i}`, value: null }));
  const partitionMetadata = randomPartitionMetadata(1, () => 0.5);
  // The best of up to 3 groupings: one took 639 ms in a unit run at load 12-15 (92 ms at best), so a
  // single timing measured the machine's load too. Quadratic, each of the 3 takes seconds.
  let ms = Infinity;
  for (let attempt = 0; attempt < 3 && ms >= 1000; attempt++) {
    const t = process.hrtime.bigint();
    const groups = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata,
      messages: groupedMessages(messages),
      partitioner: keyPartitioner(),
    });
    ms = Math.min(ms, Number(process.hrtime.bigint() - t) / 1e6);
    expect(groups['0']).toHaveLength(20_000);
  }
  expect(ms).toBeLessThan(1000);
});

test('any other reduce, and the array methods kafkajs calls, behave as on a plain array', () => {
  const messages: Message[] = [1, 2, 3].map((i) => ({ key: `k${i}`, value: Buffer.from([i]) }));
  const g = groupedMessages(messages);
  expect(Array.isArray(g)).toBe(true);
  expect([...g]).toEqual(messages);
  expect(g.reduce((n, m) => n + (m.value as Buffer)[0], 0)).toBe(6);
  expect(g.reduce((a) => a)).toBe(messages[0]);
  expect(g.reduce((acc: string[], m) => [...acc, String(m.key)], [])).toEqual(['k1', 'k2', 'k3']);
  expect(() => groupedMessages([]).reduce((a) => a)).toThrow(TypeError);
  expect(groupedMessages([]).reduce<Record<string, number>>(() => ({ x: 1 }), {})).toEqual({});
  expect(g.find((m) => m.value === undefined)).toBeUndefined();
  expect(g.map((m) => m.key)).toEqual(['k1', 'k2', 'k3']);
  expect(g.filter((m) => m.key !== 'k2')).toEqual([messages[0], messages[2]]);
  // not kafkajs's step (an accumulator not handed back, or anything but [message] under one key): refused
  expect(() => groupedMessages(messages).reduce(() => ({}), {})).toThrow(/kafkajs/);
  expect(() => groupedMessages(messages).reduce((acc) => Object.assign(acc, { 0: [], 1: [] }), {})).toThrow(/kafkajs/);
  // the caller's array is left as it was
  expect(Object.getPrototypeOf(messages)).toBe(Array.prototype);
});
