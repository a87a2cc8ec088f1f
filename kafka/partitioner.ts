import { Partitioners, type ICustomPartitioner, type PartitionerArgs } from 'kafkajs';
import murmurhash from 'murmurhash';
import { notePartitionerCall } from './partition-grouping';

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`, seed 0x9747b28c), from the murmurhash package.
 * kafkajs computes the same hash with its BigInt-backed `Long` (a BigInt and an object per step):
 * 9.6 us of a first full run's ~400 us per user went into it, plus ~4 us of `Long.multiply`; the
 * package's v2 takes ~40 ns a key (ours, hand-written with Math.imul, took ~16 ns: not worth our own
 * code). The equivalence test (partitioner.test.ts) compares it with kafkajs's on random keys. A key
 * that is neither a Buffer nor a string is hashed as kafkajs hashes it: its String() form.
 */
export function murmur2(key: Buffer | string): number {
  const data = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  return murmurhash.v2(data, 0x9747b28c) | 0;
}

/**
 * Where a record goes: a keyed record where kafkajs's DefaultPartitioner (the Java client's) puts it,
 * `(murmur2(key) & 0x7fffffff) % partitions`, so a user Id lands on the same partition whichever
 * client produced it and whichever version of the connector; the rare record with its own partition or
 * without a key is left to kafkajs's partitioner (it also filters the partitions with a leader per
 * record, which a keyed record never needs). A plain kafkajs partitioner: compose it freely.
 */
export const keyPartitioner: ICustomPartitioner = () => {
  const fallback = Partitioners.DefaultPartitioner();
  return (args: PartitionerArgs): number => {
    const { key, partition } = args.message;
    if (partition !== null && partition !== undefined) return partition;
    if (key === null || key === undefined) return fallback(args);
    return (murmur2(key) & 0x7fffffff) % args.partitionMetadata.length;
  };
};

/**
 * The partitioner of the connector's own producers (pipeline/kafka/publisher.ts, fence.ts):
 * keyPartitioner's placement, and it tells the grouping of a send (kafka/partition-grouping.ts) that it
 * is the function kafkajs's step calls, so the send's messages after its first go to the placement
 * directly: what that answers depends on its arguments and the fallback's round-robin state only, and
 * it is a number whenever the message's own partition is unset or a number. Give it to kafkajs as the
 * producer's `createPartitioner` itself, never inside another partitioner: the grouping would then call
 * the placement and skip the outer one (compose keyPartitioner instead, which reports nothing:
 * partition-grouping-s13-review.test.ts).
 */
export const producerPartitioner: ICustomPartitioner = () => {
  const place = keyPartitioner();
  return (args: PartitionerArgs): number => {
    const answer = place(args);
    notePartitionerCall(place, args, answer);
    return answer;
  };
};
