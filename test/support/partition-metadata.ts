import type { PartitionMetadata } from 'kafkajs';

/** A topic's metadata as kafkajs's partitioners see it: n partitions, about one in ten without a leader. */
export function randomPartitionMetadata(n: number, rnd: () => number): PartitionMetadata[] {
  return Array.from({ length: n }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: rnd() < 0.1 ? -1 : 1,
    replicas: [1],
    isr: [1],
    offlineReplicas: [],
  }));
}

/** A message key as the grouping tests draw them: half random Buffers (up to 39 bytes), 3 in 10
 *  user-like strings, 2 in 10 null. */
export function randomMessageKey(int: (n: number) => number): Buffer | string | null {
  const kind = int(10);
  return kind < 5 ? Buffer.from(Array.from({ length: int(40) }, () => int(256))) : kind < 8 ? `user-${int(1e9)}` : null;
}
