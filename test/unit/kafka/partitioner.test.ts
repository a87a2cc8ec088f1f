import { Partitioners } from 'kafkajs';
import { keyPartitioner, murmur2 } from '../../../kafka/partitioner';
import { mulberry32 } from '../../../simulator/prng';
import { randomPartitionMetadata } from '../../support/partition-metadata';

/**
 * The connector's partitioner must place every record where kafkajs's DefaultPartitioner (the Java
 * client's murmur2) placed it: a user Id's records stay on one partition across versions and clients.
 * Compared here with kafkajs's own murmur2 and partitioner (the oracle) on random keys of every
 * length 0-80 (the tail cases 0-3 bytes past a 4-byte block), random bytes and UTF-8 text, keys as
 * Buffers and strings, 1-64 partitions, some without a leader. Seeded: PARTITION_SEED=n replays.
 */
const SEED = Number(process.env.PARTITION_SEED ?? Math.floor(Math.random() * 2 ** 31));

// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;

test(`murmur2 and the partition of a keyed record: the same as kafkajs's (PARTITION_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  const ours = keyPartitioner();
  const theirs = Partitioners.DefaultPartitioner();
  const text = 'abcXYZ019_-\u0000\u00e9\u00fc\u4e2d\u{1f600}';
  const chars = [...text];
  for (let i = 0; i < 30_000; i++) {
    const length = int(i % 3 === 0 ? 24 : 81);
    const key =
      i % 2 === 0
        ? Buffer.from(Array.from({ length }, () => int(256)))
        : Array.from({ length }, () => chars[int(chars.length)]).join('');
    expect(murmur2(key)).toBe(kafkajsMurmur2(key));
    const partitionMetadata = randomPartitionMetadata(1 + int(64), rnd);
    const message = { key, value: null };
    expect(ours({ topic: 't', partitionMetadata, message })).toBe(theirs({ topic: 't', partitionMetadata, message }));
  }
});

test('a record with its own partition keeps it; one without a key goes round-robin to partitions with a leader', () => {
  const ours = keyPartitioner();
  const partitionMetadata = randomPartitionMetadata(6, () => 0.5).map((p) => ({
    ...p,
    leader: p.partitionId % 2 === 0 ? 1 : -1,
  }));
  expect(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: null, partition: 5 } })).toBe(5);
  const seen = new Set<number>();
  for (let i = 0; i < 12; i++) seen.add(ours({ topic: 't', partitionMetadata, message: { key: null, value: null } }));
  expect([...seen].sort()).toEqual([0, 2, 4]);
});
