import type { Admin, Kafka, Message, Producer, RecordMetadata, Transaction } from 'kafkajs';
import { FatalError, RetriableError } from '../../kernel/errors';
import { InOrder } from '../../kernel/in-order';
import { groupedMessages } from '../../kafka/partition-grouping';
import { producerPartitioner } from '../../kafka/partitioner';
import { compressionType, topicMessagesOf, type Compression, type OutRecord, type RecordWriter } from './publisher';

/**
 * The broker's fence around a run. Each run that holds the lock writes what must never come from
 * a run that lost it — its lock heartbeats, the LoginHistory progress, the tombstones with the
 * state commit, and the lock's release — through a transactional producer whose transactional.id
 * is derived from the connector (its state topic and name). Opening the fence after taking the
 * lock makes the broker bump the producer epoch of that id: any earlier holder still running (a
 * zombie: paused, partitioned, or its lease expired under clock skew) is fenced, and its next
 * transaction fails with no record of it visible to read_committed consumers. Half a deletion
 * phase is never visible either: tombstones and the state commit are one transaction.
 * Correctness does not depend on any host's clock; the lease only decides when a run may try.
 */
export interface RunFence {
  /** Runs `fn` in one transaction (transactions are serialized); RUN_FENCED if another run took over. */
  transaction(fn: (send: TransactionSender) => Promise<void>): Promise<void>;
  /** True once a transaction failed because another run took over the fence. */
  readonly fenced: boolean;
  close(): Promise<void>;
}

export interface TransactionSender {
  /** A record writer into the open transaction (for publishStream). */
  writer: RecordWriter;
  send(topic: string, messages: Message[]): Promise<void>;
}

/** The fence's transactional.id: one per connector (state topic and name), the scope of its lock. */
export function fenceId(stateTopic: string, connector: string): string {
  return `sf-neurons:${stateTopic}:${connector}`;
}

/** Codes with which the broker (or kafkajs) refuses a producer whose epoch was bumped. */
const FENCED = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'INVALID_PRODUCER_ID_MAPPING',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

export function isFencedError(err: unknown): boolean {
  const e = err as { type?: string; code?: number; name?: string; cause?: unknown; originalError?: unknown } | null;
  if (!e) return false;
  if ((e.type && FENCED.has(e.type)) || e.code === 90 || e.code === 47) return true;
  return isFencedError(e.originalError) || isFencedError(e.cause);
}

export async function openFence(
  kafka: Kafka,
  id: string,
  connector: string,
  opts: { compression: Compression; transactionTimeoutMs?: number },
): Promise<RunFence> {
  const producer: Producer = kafka.producer({
    transactionalId: id,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    transactionTimeout: opts.transactionTimeoutMs ?? 60_000,
    // the publisher's partitioner: same placement as kafkajs's DefaultPartitioner, without its BigInt
    // arithmetic (a first full run sends every user's index entry through here: 10-14 us a user)
    createPartitioner: producerPartitioner,
  });
  await producer.connect();
  const admin: Admin = kafka.admin();
  await admin.connect().catch(async (err: unknown) => {
    await producer.disconnect().catch(() => undefined);
    throw err;
  });
  const compression = compressionType(opts.compression);
  const transactions = new InOrder();
  let fenced = false;
  // A send that failed for good leaves kafkajs's sequence numbers behind the broker's (it takes a
  // failed request's back, and the broker may have appended it): a later transaction's send to that
  // partition would be refused, or, with as many records, acknowledged and not appended in a
  // transaction that commits. A new producer (a new epoch) would start afresh, but bumping this
  // id's epoch is how a run takes the fence from an earlier holder: a run that lost its lock
  // meanwhile would fence the one that took it. So this fence takes no transaction after that:
  // the run fails, and nothing is committed (the next run starts afresh).
  let broken: unknown;
  const fencedError = (cause: unknown) =>
    new FatalError(
      'RUN_FENCED',
      `Another run of connector "${connector}" took over its lock (this run's lease ran out: ` +
        `it was paused, cut off, or its heartbeats were late). ` +
        `The broker fenced this run: it publishes no tombstone and commits no state.`,
      { cause },
    );

  const fence: RunFence = {
    get fenced() {
      return fenced;
    },
    transaction(fn) {
      return transactions.run(async () => {
        if (fenced) throw fencedError(undefined);
        if (broken !== undefined)
          throw new RetriableError(
            'RUN_FENCE_SEND_FAILED',
            `A send of connector "${connector}" through its fence failed (${(broken as Error).message}): ` +
              `this run commits nothing more through it; the next run starts afresh.`,
            { cause: broken },
          );
        let tx: Transaction | undefined;
        const written = new Map<string, { topic: string; partition: number; offset: bigint }>();
        const note = (meta: RecordMetadata[]) => {
          for (const m of meta) {
            const offset = BigInt(m.baseOffset ?? m.offset ?? '-1');
            const k = `${m.topicName}\u0000${m.partition}`;
            if (offset > (written.get(k)?.offset ?? -1n)) {
              written.set(k, { topic: m.topicName, partition: m.partition, offset });
            }
          }
        };
        try {
          tx = await producer.transaction();
          const t = tx;
          // One send at a time, even if `fn` makes several at once (the run's never do): a send waiting
          // while another is retried would take the sequence numbers kafkajs took back from it, and
          // the broker refuse it or take it for that retry, acknowledged and not appended, in a
          // transaction that commits (see kafka/serial-producer.ts).
          const sends = new InOrder();
          const queued = (op: () => Promise<RecordMetadata[]>): Promise<void> =>
            sends.run(async () => {
              if (broken !== undefined) throw broken;
              try {
                note(await op());
              } catch (err) {
                if (!isFencedError(err)) broken ??= err;
                throw err;
              }
            });
          // the messages in lists kafkajs groups by partition linearly (kafka/partition-grouping.ts)
          const send = (topic: string, messages: Message[]) =>
            queued(() => t.send({ topic, acks: -1, compression, messages: groupedMessages(messages) }));
          const writer: RecordWriter = {
            write: (batch: OutRecord[]) =>
              queued(() => t.sendBatch({ acks: -1, compression, topicMessages: topicMessagesOf(batch) })),
          };
          await fn({ writer, send });
          if (broken !== undefined) throw broken; // `fn` went on after a failed send: never commit that
          await tx.commit();
        } catch (err) {
          if (tx?.isActive()) await tx.abort().catch(() => undefined);
          if (isFencedError(err)) {
            fenced = true;
            throw fencedError(err);
          }
          throw err;
        }
        // The commit is durable now, but its markers reach the partitions a moment later: wait
        // until read_committed readers (the next run, the sink) see every record of it.
        await visible([...written.values()]);
      });
    },
    async close() {
      await transactions.idle();
      await admin.disconnect().catch(() => undefined);
      await producer.disconnect();
    },
  };

  async function visible(records: { topic: string; partition: number; offset: bigint }[]): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (const topic of new Set(records.map((r) => r.topic))) {
      for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
        // listOffsets with read_committed isolation: the last stable offset of each partition
        const stable = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
        if (records.every((r) => r.topic !== topic || (stable.get(r.partition) ?? 0n) > r.offset)) break;
        if (Date.now() > deadline) return; // readers will see it a little later; nothing is wrong
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
  return fence;
}
