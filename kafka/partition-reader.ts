import type { KafkaMessage } from 'kafkajs';
import { kafkaBatch, READ_COMMITTED, type FetchPartitionData, type RawMessage, type ReadCluster } from './read-cluster';

/**
 * Where a partition's read is: the next offset to fetch, the end (exclusive) to read up to.
 * `alone`: fetched in a request of its own, because it came back empty from a shared one (see
 * `apply`); `maxBytes`: what its fetch may bring.
 */
interface Position {
  next: bigint;
  readonly end: bigint;
  alone: boolean;
  maxBytes: number;
}

export interface FetchLimits {
  /** Bytes a fetch may bring per partition (compressed, as the broker counts them). */
  perPartition: number;
  /** Bytes a fetch request may bring in all. */
  total: number;
}

/**
 * A partition alone in its request that brings nothing decodable while its end is not reached:
 * either nothing readable is left below the end (compaction removed it), or its next record
 * batches are empty ones (compaction keeps a producer's last batch header) followed by one too
 * big for what is left of the limit (the broker always gives the FIRST batch whole, not the
 * next). Its limit is raised 8x at a time up to this before it counts as read to its end.
 */
const ALONE_MAX_BYTES = 16 * 1024 * 1024;

/** Records of one partition from one fetch, to hand to the reader's caller. */
interface Delivery {
  partition: number;
  messages: KafkaMessage[];
  end: bigint;
  /** every message is below the end */
  below: boolean;
}

interface Request {
  nodeId: string;
  partitions: { partition: number; fetchOffset: string; maxBytes: number }[];
}

type Settled = { request: Request; data?: FetchPartitionData[]; error?: unknown };

/**
 * Fetches partitions of one topic directly from their leaders (no consumer group): one Fetch
 * request per leader for the partitions it leads, read_committed, the next request sent while
 * the records of the last one are handed over. Each partition ends at its own `end`.
 *
 * What each partition yields is exactly its committed records in [start, end), in offset
 * order, once each: the records of aborted transactions are dropped (withoutAborted), kafkajs's
 * consumer Batch drops the control records (transaction markers), and the next offset fetched is
 * the end of the last record batch received (its header's last offset + 1), so neither a batch of markers only nor
 * records compaction removed from a batch's end stall a partition.
 */
export class PartitionReader {
  private readonly positions = new Map<number, Position>();
  private readonly Batch = kafkaBatch();
  private stopped = false;

  constructor(
    private readonly cluster: ReadCluster,
    private readonly topic: string,
    private readonly limits: FetchLimits,
  ) {}

  /** Reads `partition` from `start` up to `end` (exclusive); nothing when start >= end. */
  add(partition: number, start: bigint, end: bigint): void {
    if (start < end) {
      this.positions.set(partition, { next: start, end, alone: false, maxBytes: this.limits.perPartition });
    }
  }

  /** The partitions not yet read to their end. */
  pending(): number[] {
    return [...this.positions.keys()].sort((a, b) => a - b);
  }

  /** Where `partition` is to be fetched next (undefined once it is read to its end). */
  next(partition: number): bigint | undefined {
    return this.positions.get(partition)?.next;
  }

  /** Moves `partition`'s next fetch (to the log start, after retention moved it). */
  moveTo(partition: number, offset: bigint): void {
    const p = this.positions.get(partition);
    if (!p) return;
    if (offset >= p.end) this.positions.delete(partition);
    else p.next = offset;
  }

  /** Hands over nothing more (the caller gave up: its deadline). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Fetches until every partition is at its end, handing each record to `onMessage`. Throws the
   * first request error (after handing over what the other requests of that round brought); the
   * positions stay where the records handed over end, so calling run() again continues exactly.
   */
  async run(onMessage: (message: KafkaMessage, partition: number) => void): Promise<void> {
    let round = this.positions.size ? this.round() : undefined;
    while (round) {
      const settled = await round;
      if (this.stopped) return;
      const deliveries: Delivery[] = [];
      let error: unknown;
      for (const s of settled) {
        const failed = s.error ?? this.apply(s.request, s.data!, deliveries);
        if (failed !== undefined) error ??= failed;
      }
      // the next fetch is on its way while this one's records are handed over
      round = error === undefined && this.positions.size ? this.round() : undefined;
      // let it reach the socket first (finding the broker and encoding are a few promise hops)
      if (round) await new Promise((resolve) => setImmediate(resolve));
      if (this.stopped) return;
      for (const d of deliveries) {
        for (const m of d.messages) {
          if (!d.below && BigInt(m.offset) >= d.end) break;
          onMessage(m, d.partition);
        }
      }
      if (error !== undefined) throw error;
    }
  }

  /** One request per leader for its partitions, and one for each partition that must go alone. */
  private round(): Promise<Settled[]> {
    let requests: Request[];
    try {
      requests = this.requests();
    } catch (error) {
      return Promise.resolve([{ request: { nodeId: '', partitions: [] }, error }]);
    }
    return Promise.all(
      requests.map(async (request): Promise<Settled> => {
        try {
          const broker = await this.cluster.findBroker({ nodeId: request.nodeId });
          const { responses } = await broker.fetch({
            isolationLevel: READ_COMMITTED,
            // answer with what is there now: an empty answer is information (see apply)
            minBytes: 0,
            maxWaitTime: 100,
            maxBytes: Math.max(this.limits.total, ...request.partitions.map((p) => p.maxBytes)),
            topics: [{ topic: this.topic, partitions: request.partitions }],
          });
          const data = responses.filter((r) => r.topicName === this.topic).flatMap((r) => r.partitions);
          return { request, data };
        } catch (error) {
          return { request, error };
        }
      }),
    );
  }

  private requests(): Request[] {
    const pending = [...this.positions.keys()];
    const leaders = this.cluster.findLeaderForPartitions(this.topic, pending);
    const requests: Request[] = [];
    const led = new Set<number>();
    for (const [nodeId, partitions] of Object.entries(leaders)) {
      const shared: Request = { nodeId, partitions: [] };
      for (const partition of partitions) {
        const p = this.positions.get(partition)!;
        led.add(partition);
        const entry = { partition, fetchOffset: p.next.toString(), maxBytes: p.maxBytes };
        if (p.alone) requests.push({ nodeId, partitions: [entry] });
        else shared.partitions.push(entry);
      }
      if (shared.partitions.length) requests.push(shared);
    }
    const leaderless = pending.filter((p) => !led.has(p));
    if (leaderless.length) {
      throw new ReadOutage(`no leader known for partitions ${leaderless.join(', ')} of ${this.topic}`);
    }
    return requests;
  }

  /** Moves the positions past what one response brought, and collects its records. */
  private apply(request: Request, data: FetchPartitionData[], deliveries: Delivery[]): ReadOutage | undefined {
    let behind: ReadOutage | undefined;
    for (const part of data) {
      const asked = request.partitions.find((p) => p.partition === part.partition);
      const p = this.positions.get(part.partition);
      if (!asked || !p || asked.fetchOffset !== p.next.toString()) continue;
      const raw = part.messages;
      const last = raw[raw.length - 1];
      const batchEnd = last && nextAfter(last);
      if (batchEnd === undefined || batchEnd <= p.next) {
        // Nothing decodable. In a request with others this proves nothing: the broker gives only
        // the first partition with data more than its limit allows, and may have filled the
        // request's bytes with others. Alone, the broker gave it at least its first batch.
        if (!p.alone && request.partitions.length > 1) p.alone = true;
        else if (BigInt(part.lastStableOffset ?? part.highWatermark) < p.end) {
          // a new leader whose high watermark has not caught up yet (a leader change)
          behind = new ReadOutage(`partition ${part.partition} of ${this.topic}: its leader is behind the end read to`);
        } else if (p.maxBytes < ALONE_MAX_BYTES) p.maxBytes *= 8;
        else this.positions.delete(part.partition);
        continue;
      }
      // the records of aborted transactions are dropped here, not by kafkajs (see withoutAborted)
      const aborted = part.abortedTransactions;
      const kept = aborted?.length
        ? { ...part, messages: withoutAborted(raw, aborted), abortedTransactions: [] }
        : part;
      const batch = new this.Batch(this.topic, p.next.toString(), kept);
      if (batch.messages.length) {
        deliveries.push({ partition: part.partition, messages: batch.messages, end: p.end, below: batchEnd <= p.end });
      }
      p.alone = false;
      p.maxBytes = this.limits.perPartition;
      if (batchEnd >= p.end) this.positions.delete(part.partition);
      else p.next = batchEnd;
    }
    return behind;
  }
}

/** A passing state of the cluster (no leader known yet, a leader behind): fetch again later. */
export class ReadOutage extends Error {
  override name = 'ReadOutage';
}

/** The offset after the record batch `m` is in (compaction may have removed its last records). */
function nextAfter(m: RawMessage): bigint {
  const b = m.batchContext;
  return b ? BigInt(b.firstOffset) + BigInt(b.lastOffsetDelta) + 1n : BigInt(m.offset) + 1n;
}

const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]); // control record key: version 0, type 0 (abort)

/**
 * The records of `raw` (one partition's fetch, in offset order) that are not in an aborted
 * transaction: a transactional record is dropped from its transaction's first offset (the broker
 * lists the aborted transactions the fetch overlaps) up to its producer's abort marker, as Kafka's
 * Java consumer does. Not kafkajs's filterAbortedMessages: it starts at most one listed transaction
 * per record, so a fetch that begins after two aborted transactions started (a `from` inside
 * them) hands over the first record of one of them (randomized read-to-end test, seed 1157873798:
 * offset 63 of an aborted transaction read). Control records are kept for the Batch to drop.
 */
export function withoutAborted(
  raw: RawMessage[],
  aborted: { producerId: string; firstOffset: string }[],
): RawMessage[] {
  const starts = aborted
    .map((t) => ({ producerId: t.producerId, first: BigInt(t.firstOffset) }))
    .sort((a, b) => compare(a.first, b.first));
  const open = new Set<string>();
  let i = 0;
  return raw.filter((m) => {
    const offset = BigInt(m.offset);
    while (i < starts.length && starts[i].first <= offset) open.add(starts[i++].producerId);
    const ctx = m.batchContext;
    if (m.isControlRecord) {
      if (ctx && m.key && Buffer.from(m.key).equals(ABORT_MARKER_KEY)) open.delete(ctx.producerId);
      return true;
    }
    return !ctx?.inTransaction || !open.has(ctx.producerId);
  });
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The earliest and the last stable offsets of the topic's partitions (the cluster reads committed). */
export async function listOffsets(
  cluster: ReadCluster,
  topic: string,
): Promise<{ partition: number; low: bigint; high: bigint }[]> {
  await cluster.addTargetTopic(topic);
  const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
  if (!partitions.length) {
    throw new ReadOutage(`no partitions known for topic ${topic}`);
  }
  const [high, low] = await Promise.all(
    [false, true].map((fromBeginning) => cluster.fetchTopicsOffset([{ topic, fromBeginning, partitions }])),
  );
  const lows = new Map(low.flatMap((t) => t.partitions).map((p) => [p.partition, BigInt(p.offset)]));
  return high
    .flatMap((t) => t.partitions)
    .map((p) => ({ partition: p.partition, low: lows.get(p.partition) ?? 0n, high: BigInt(p.offset) }))
    .sort((a, b) => a.partition - b.partition);
}
