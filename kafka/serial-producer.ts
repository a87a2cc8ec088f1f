import type { Producer } from 'kafkajs';
import { InOrder } from '../kernel/in-order';

/**
 * An idempotent kafkajs producer whose sends (send, sendBatch) go one after the other, in the order
 * they were made, and which takes a new producer id after a send that failed.
 *
 * Why: kafkajs numbers a request's records when it builds it, under a lock per broker, and when the
 * request fails (any error, a retriable one included) it takes the numbers back and releases the lock
 * before its retry's back-off (node_modules/kafkajs/src/producer/sendMessages.js:79-122). A send
 * waiting for that lock then gets the numbers the failed request had, though the broker may have
 * appended that request: a partition whose leader moved answers NOT_LEADER_OR_FOLLOWER while the
 * request's other partitions are appended, and a topic just created answers so for a moment (seen
 * on Kafka 3.9 and 4.4, docs/performance-s16-seq.md). The broker then refuses the waiting send
 * (OUT_OF_ORDER_SEQUENCE_NUMBER) or, when it has as many records in that partition, takes it for
 * a retry of the appended request and acknowledges it without appending it: records lost, and the
 * first request's records twice once its retry goes
 * (test/integration/pipeline/publisher-sequence-s16.test.ts).
 * One send at a time, a retry resends the same records under the same numbers, which the broker
 * recognises. After a send that failed for good, the numbers kafkajs holds may be below the
 * broker's for ever (every later send refused, or lost when its count matches): the next send
 * first connects a new producer (a new producer id, numbers from 0) and disconnects the old one.
 *
 * Cost: kafkajs's lock already let one request at a time reach a broker; the writes' throughput
 * with and without, side by side, is in docs/performance-s16-seq.md. Events (`on`) are the current
 * producer's: a listener does not follow it to a new one (the connector registers none).
 */
export function serialProducer(make: () => Producer): Producer {
  let inner = make();
  let connected = false;
  let stale = false;
  const sends = new InOrder();
  const renew = async () => {
    const next = make();
    try {
      await next.connect();
    } catch (err) {
      await next.disconnect().catch(() => undefined);
      throw err;
    }
    const old = inner;
    inner = next;
    stale = false;
    await old.disconnect().catch(() => undefined);
  };
  const queued = <T>(op: (p: Producer) => Promise<T>): Promise<T> =>
    sends.run(async () => {
      if (stale && connected) await renew();
      try {
        return await op(inner);
      } catch (err) {
        stale = true;
        throw err;
      }
    });
  return {
    async connect() {
      connected = true;
      await inner.connect();
    },
    async disconnect() {
      connected = false;
      await inner.disconnect();
    },
    isIdempotent: () => inner.isIdempotent(),
    get events() {
      return inner.events;
    },
    on: ((...args: Parameters<Producer['on']>) => inner.on(...args)) as Producer['on'],
    logger: () => inner.logger(),
    transaction: () => inner.transaction(),
    send: (record) => queued((p) => p.send(record)),
    sendBatch: (batch) => queued((p) => p.sendBatch(batch)),
  };
}
