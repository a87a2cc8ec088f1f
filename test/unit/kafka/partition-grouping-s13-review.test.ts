import type { Message, PartitionerArgs, PartitionMetadata } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { groupedMessages } from '../../../kafka/partition-grouping';
import { keyPartitioner, producerPartitioner } from '../../../kafka/partitioner';
import { mulberry32 } from '../../../simulator/prng';
import { randomPartitionMetadata } from '../../support/partition-metadata';

/**
 * Review of session 13's grouping shortcut (kafka/partition-grouping.ts, kafka/partitioner.ts): once a
 * send's first step called keyPartitioner once for its message and filed it under the answer, the
 * send's later messages go to that keyPartitioner instance directly, without kafkajs's step and
 * without the partitioner kafkajs was given. kafkajs's own groupMessagesPerPartition over a plain array
 * is the oracle: the grouping must equal it exactly (keys, their order, the message objects), with
 * any partitioner the producer was created with.
 *
 * Replay: GROUPING_S13_REVIEW_SEED=<n>.
 */
const SEED = Number(process.env.GROUPING_S13_REVIEW_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`GROUPING_S13_REVIEW_SEED=${SEED}`);

// kafkajs's round-robin starts each (partitioner, topic) at a random count: the test sets the start
// before each grouping, so that the oracle's partitioner and the grouping's start alike
let rrStart = 0;
jest.mock('kafkajs/src/producer/partitioners/legacy/randomBytes', () => (n: number) => {
  const b = Buffer.alloc(n);
  b.writeUInt32BE(rrStart >>> 0, 0);
  return b;
});

type Partitioner = (args: PartitionerArgs) => number;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (a: {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  messages: Message[];
  partitioner: Partitioner;
}) => Record<string, Message[]>;

/** Keys in order, and each group message for message (the same objects). */
function diff(got: Record<string, Message[]>, want: Record<string, Message[]>): string | null {
  const gk = Object.keys(got);
  const wk = Object.keys(want);
  if (gk.join('|') !== wk.join('|')) return `keys ${gk.join('|')} != ${wk.join('|')}`;
  for (const k of wk) {
    if (got[k].length !== want[k].length) return `partition ${k}: ${got[k].length} != ${want[k].length} messages`;
    for (let i = 0; i < want[k].length; i++)
      if (got[k][i] !== want[k][i]) return `partition ${k}: message ${i} differs`;
  }
  return null;
}

/**
 * A producer's partitioner composed from keyPartitioner: a record that names its route in a header goes
 * to that partition, the others where keyPartitioner puts them (the exported ICustomPartitioner, used as
 * any kafkajs partitioner may be composed). It calls keyPartitioner once for the others, with kafkajs's
 * own arguments.
 */
const routingPartitioner = () => {
  const inner = keyPartitioner();
  return (args: PartitionerArgs): number => {
    const route = args.message.headers?.route;
    if (route !== undefined) return Number(String(route));
    return inner(args);
  };
};

test(`a partitioner composed from keyPartitioner is asked for every message (GROUPING_S13_REVIEW_SEED=${SEED})`, () => {
  const partitionMetadata = randomPartitionMetadata(6, () => 0.5);
  // the first message is an ordinary keyed one; later ones name their route (partition 5)
  const messages: Message[] = Array.from({ length: 10 }, (_, i) => ({
    key: `user-${i}`,
    value: Buffer.from(String(i)),
    ...(i % 3 === 2 ? { headers: { route: '5' } } : {}),
  }));
  const want = groupMessagesPerPartition({
    topic: 't',
    partitionMetadata,
    messages,
    partitioner: routingPartitioner(),
  });
  const got = groupMessagesPerPartition({
    topic: 't',
    partitionMetadata,
    messages: groupedMessages(messages),
    partitioner: routingPartitioner(),
  });
  // kafkajs files messages 2, 5 and 8 under '5'; the shortcut gives them to keyPartitioner instead
  expect(want['5']).toEqual(expect.arrayContaining([messages[2], messages[5], messages[8]]));
  expect(diff(got, want)).toBeNull();
});

test('a partitioner that wraps keyPartitioner (counting its calls) is called once a message', () => {
  let calls = 0;
  const counting = () => {
    const inner = keyPartitioner();
    return (args: PartitionerArgs): number => {
      calls++;
      return inner(args);
    };
  };
  const partitionMetadata = randomPartitionMetadata(3, () => 0.5);
  const messages: Message[] = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: null }));
  groupMessagesPerPartition({
    topic: 't',
    partitionMetadata,
    messages: groupedMessages(messages),
    partitioner: counting(),
  });
  expect(calls).toBe(50);
});

/**
 * Pins the shortcut's domain with producerPartitioner itself (passes; kept because the shortcut is risky):
 * own partitions of every kind (numbers incl. NaN, -0, 1.5, -1, out of range; null; undefined; absent;
 * strings incl. '' and 'x'), keys null / undefined / '' / empty Buffer / Buffer / string, keyless messages
 * under the round-robin (one partitioner instance for many sends and topics, as a producer has), and two
 * producers' partitioners (producerPartitioner and kafkajs's DefaultPartitioner) sending in turn.
 */
test(`producerPartitioner's and DefaultPartitioner's sends of all kinds group as kafkajs's (SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  const ownPartitions: unknown[] = [NaN, -0, 1.5, -1, 1e9, null, undefined, '', 'x', '1', 0, 2];
  const makers = [producerPartitioner, Partitioners.DefaultPartitioner, producerPartitioner] as (() => Partitioner)[];
  for (let life = 0; life < 40; life++) {
    rrStart = int(2 ** 32);
    // a producer's lifetime each side: the same instances for all its sends
    const oracle = makers.map((m) => m());
    const ours = makers.map((m) => m());
    const metas = Array.from({ length: 3 }, () => randomPartitionMetadata(1 + int(8), rnd));
    for (let send = 0; send < 30; send++) {
      const p = int(makers.length);
      const t = int(3);
      const partitionMetadata = metas[t];
      const messages: Message[] = Array.from({ length: int(send % 7 === 0 ? 300 : 25) }, (_, i) => {
        const kind = int(12);
        const key =
          kind < 3
            ? `user-${int(1e6)}`
            : kind < 5
              ? Buffer.from(Array.from({ length: int(20) }, () => int(256)))
              : kind === 5
                ? ''
                : kind === 6
                  ? Buffer.alloc(0)
                  : kind === 7
                    ? undefined
                    : null;
        const m: Record<string, unknown> = { key, value: Buffer.from(String(i)) };
        const own = int(8);
        if (own === 0) m.partition = ownPartitions[int(ownPartitions.length)];
        else if (own === 1) m.partition = int(partitionMetadata.length);
        return m as unknown as Message;
      });
      const topic = `t${t}`;
      const want = groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner: oracle[p] });
      const got = groupMessagesPerPartition({
        topic,
        partitionMetadata,
        messages: groupedMessages(messages),
        partitioner: ours[p],
      });
      expect({ life, send, diff: diff(got, want) }).toEqual({ life, send, diff: null });
    }
  }
});
