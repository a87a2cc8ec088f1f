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
