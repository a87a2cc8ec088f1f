import type { Admin } from 'kafkajs';

/**
 * The sink's lag: records in its topics beyond the group's committed offsets (a partition with
 * no committed offset counts from its low watermark). One admin round-trip per topic; call it
 * on a timer, not per record.
 */
export async function sinkLag(admin: Admin, groupId: string, topics: readonly string[]): Promise<number> {
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  let lag = 0;
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const p of ends) {
      const c = Number(mine.find((x) => x.partition === p.partition)?.offset ?? -1);
      const from = c >= 0 ? c : Number(p.low);
      lag += Math.max(0, Number(p.high) - from);
    }
  }
  return lag;
}
