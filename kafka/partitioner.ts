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
 * The partitioner of the connector's producers: a keyed record goes where kafkajs's
 * DefaultPartitioner (the Java client's) puts it, `(murmur2(key) & 0x7fffffff) % partitions`, so a user
 * Id lands on the same partition whichever client produced it and whichever version of the connector;
 * the rare record with its own partition or without a key is left to kafkajs's partitioner (it also
 * filters the partitions with a leader per record, which a keyed record never needs).
 */
export const keyPartitioner: ICustomPartitioner = () => {
  const fallback = Partitioners.DefaultPartitioner();
  // Reported to the grouping of a send (kafka/partition-grouping.ts), which then calls it directly for
  // the send's other messages: what it answers depends on its arguments and the fallback's round-robin
  // state only, and it is a number whenever the message's own partition is unset or a number.
  const partitioner = (args: PartitionerArgs): number => {
    const answer = partitionOf(args);
    notePartitionerCall(partitioner, args, answer);
    return answer;
  };
  const partitionOf = (args: PartitionerArgs): number => {
    const { key, partition } = args.message;
    if (partition !== null && partition !== undefined) return partition;
    if (key === null || key === undefined) return fallback(args);
    return (murmur2(key) & 0x7fffffff) % args.partitionMetadata.length;
  };
  return partitioner;
};
