import { KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { FatalError, RetriableError } from '../../../kernel/errors';
import { describeError } from '../../../pipeline/sync';

/**
 * describeError (s17 review): kafkajs's retrier wraps whatever its attempt threw, our own code's
 * errors too (our record encoder, partitioner and codecs run inside kafkajs's producer). The wrap
 * is kafkajs's, the fault is not Kafka's: a TypeError of ours stays INTERNAL, a ConnectorError
 * keeps its code. The errors are made by kafkajs's own retrier (the oracle of what a run sees).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const createRetry = require('kafkajs/src/retry') as (o: object) => (fn: () => Promise<never>) => Promise<never>;
const retried = (err: Error) =>
  createRetry({ retries: 1, initialRetryTime: 1, maxRetryTime: 2 })(() => Promise.reject(err)).then(
    () => {
      throw new Error('resolved');
    },
    (e: Error) => e,
  );

it('a TypeError of ours wrapped by kafkajs stays INTERNAL', async () => {
  const wrapped = await retried(new TypeError("Cannot read properties of undefined (reading 'length')"));
  expect(wrapped).toBeInstanceOf(KafkaJSNonRetriableError);
  expect(describeError(wrapped).code).toBe('INTERNAL');
});

it('a ConnectorError wrapped by kafkajs keeps its code', async () => {
  const fatal = await retried(new FatalError('KAFKAJS_INTERNALS_CHANGED', 'x'));
  expect(describeError(fatal).code).toBe('KAFKAJS_INTERNALS_CHANGED');
  const retriable = await retried(new RetriableError('RUN_FENCE_SEND_FAILED', 'y'));
  expect(retriable).toBeInstanceOf(KafkaJSNumberOfRetriesExceeded);
  expect(describeError(retriable).code).toBe('RUN_FENCE_SEND_FAILED');
});

it("a broker's error stays KAFKA_ERROR with its type", async () => {
  const e = await retried(
    new KafkaJSProtocolError({
      message: 'not leader',
      type: 'NOT_LEADER_FOR_PARTITION',
      code: 6,
      retriable: true,
    } as never),
  );
  const d = describeError(e);
  expect(d.code).toBe('KAFKA_ERROR');
  expect(d.message).toContain('NOT_LEADER_FOR_PARTITION');
});
