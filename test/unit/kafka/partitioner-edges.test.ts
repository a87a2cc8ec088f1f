import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { keyPartitioner } from '../../../kafka/partitioner';

/**
 * Review of issue 15: the edge cases the random comparison (partitioner.test.ts) reaches rarely or not at
 * all, each compared with kafkajs's DefaultPartitioner (the oracle): empty keys, a key Buffer that is a
 * view into a larger one, unpaired surrogates, one partition, no partition with a leader, partition 0 given.
 */
const metadata = (n: number, leader: (id: number) => number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: leader(partitionId),
    replicas: [1],
    isr: [1],
    offlineReplicas: [],
  }));

const big = Buffer.from('xx005Hn00000AbCdEAAVyy');
const keys: (string | Buffer)[] = [
  '',
  Buffer.alloc(0),
  big.subarray(2, 20),
  big.subarray(1, 4),
  '\ud800',
  'a\udc00b',
  '005Hn00000AbCdEAAV',
  '\u4e2d\u{1f600}',
];

it.each(keys.map((k) => [k]))(
  'key %p: the partition kafkajs gives, for 1-7 partitions, with or without leaders',
  (key) => {
    for (let n = 1; n <= 7; n++) {
      for (const leader of [() => 1, () => -1, (id: number) => (id % 2 ? 1 : -1)]) {
        const partitionMetadata = metadata(n, leader);
        for (const partition of [undefined, null, 0, n - 1]) {
          const message = { key, value: null, ...(partition === undefined ? {} : { partition }) } as {
            key: string | Buffer;
            value: null;
            partition?: number;
          };
          const args = { topic: 't', partitionMetadata, message };
          expect(keyPartitioner()(args)).toBe(Partitioners.DefaultPartitioner()(args));
        }
      }
    }
  },
);

/**
 * kafkajs hashes a key that is not a Buffer as `Buffer.from(String(key))` (a Uint8Array or a number from an
 * untyped caller, e.g. plain JavaScript using the exported partitioner); murmur2 here indexes it as bytes or,
 * for a number, hashes an empty key. Low stakes (the connector's keys are Buffers), but "the same partition
 * as kafkajs's" should hold for every key kafkajs takes.
 */
it.each([[new Uint8Array([1, 2, 3, 4, 5])], [12345]])(
  'a key that is not a Buffer or a string (%p): as kafkajs',
  (key) => {
    const partitionMetadata = metadata(12, () => 1);
    const args = { topic: 't', partitionMetadata, message: { key: key as unknown as Buffer, value: null } };
    expect(keyPartitioner()(args)).toBe(Partitioners.DefaultPartitioner()(args));
  },
);
