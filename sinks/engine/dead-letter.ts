import { Partitioners, type IHeaders, type Kafka, type Producer } from 'kafkajs';
import { serialProducer } from '../../kafka/serial-producer';
import { FatalError, RetriableError, type ConnectorError } from '../../kernel/errors';
import { DEAD_LETTER_HEADERS } from '../../schemas/topics';
import { scrubSecrets } from '../../kernel/redact';
import type { SourceRecord } from '../port';

export { DEAD_LETTER_HEADERS };

/** A record the sink could not decode or write, and why. */
export interface DeadLetterEntry {
  readonly source: SourceRecord;
  readonly error: ConnectorError;
}

/**
 * The dead-letter topic. `send` resolves once every entry is acknowledged by all in-sync
 * replicas, with the original key and value bytes untouched (so the record can be replayed
 * after a fix) and the headers above. Rejects with the producer's error; the caller then does
 * not commit the source offsets, so the entries are sent again (at least once).
 */
export interface DeadLetter {
  readonly topic: string;
  send(entries: readonly DeadLetterEntry[]): Promise<void>;
}

/**
 * The producer of a sink's dead letters (the engine's, and a replay's): idempotent, acks from all
 * in-sync replicas, the Java client's placement of keys. Partitions processed at once send to it
 * at once: its sends go one at a time (kafka/serial-producer.ts), or a retried request's sequence
 * numbers could be taken by another partition's send, acknowledged and never appended
 * (publisher-sequence-s16.test.ts: 272-316 of ~1,000 dead letters lost before).
 */
export function deadLetterProducer(kafka: Kafka): Producer {
  return serialProducer(() =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    }),
  );
}

/** `extra`: headers the store adds for its own errors (PostgreSQL: the SQLSTATE). */
export function createDeadLetter(
  producer: Producer,
  topic: string,
  now: () => Date = () => new Date(),
  extra?: (error: ConnectorError) => IHeaders,
): DeadLetter {
  return {
    topic,
    async send(entries) {
      if (entries.length === 0) return;
      await producer.send({
        topic,
        acks: -1,
        messages: entries.map((e) => ({
          key: e.source.key,
          value: e.source.value,
          headers: deadLetterHeaders(e, now(), extra),
        })),
      });
    },
  };
}

export function deadLetterHeaders(
  entry: DeadLetterEntry,
  at: Date,
  extra?: (error: ConnectorError) => IHeaders,
): IHeaders {
  const headers: IHeaders = { ...(entry.source.headers ?? {}) };
  headers[DEAD_LETTER_HEADERS.reason] = scrubSecrets(entry.error.message).slice(0, 2000);
  headers[DEAD_LETTER_HEADERS.errorCode] = entry.error.code;
  Object.assign(headers, extra?.(entry.error));
  headers[DEAD_LETTER_HEADERS.sourceTopic] = entry.source.topic;
  headers[DEAD_LETTER_HEADERS.sourcePartition] = String(entry.source.partition);
  headers[DEAD_LETTER_HEADERS.sourceOffset] = entry.source.offset;
  headers[DEAD_LETTER_HEADERS.failedAt] = at.toISOString();
  return headers;
}

/**
 * What a failed dead-letter send means. kafkajs has already retried inside the producer; what
 * is left is either permanent, where more retries only stall the partition (the sink stops with
 * what to fix), or passing (a broker restart, no leader yet: retried with capped backoff, the
 * circuit breaker bounding it).
 *
 * | kafkajs error type (anywhere in the cause chain)           | class          | fix                         |
 * |-------------------------------------------------------------|----------------|-----------------------------|
 * | MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE                    | FatalError     | raise max.message.bytes     |
 * | TOPIC_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED    | FatalError     | grant WRITE to the sink     |
 * | UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION         | FatalError     | create the topic            |
 * | POLICY_VIOLATION, INVALID_RECORD, UNSUPPORTED_FOR_MESSAGE_FORMAT | FatalError | fix the topic's settings    |
 * | anything else                                               | RetriableError | retry                       |
 */
export function classifySendError(err: unknown, topic: string): ConnectorError {
  const type = kafkaTypes(err).find((t) => t in PERMANENT);
  if (type) {
    return new FatalError(
      'DEAD_LETTER_UNWRITABLE',
      `dead-letter topic ${topic} refuses writes (${type}): ${PERMANENT[type]}. ` +
        'Records stay unread until it accepts them.',
      { cause: err },
    );
  }
  return new RetriableError(
    'DEAD_LETTER_SEND_FAILED',
    `dead-letter topic ${topic}: ${(err as Error)?.message ?? String(err)}`,
    { cause: err },
  );
}

const TOO_LARGE =
  'a dead letter is larger than the topic accepts: ' +
  "raise max.message.bytes on the dead-letter topic (and the broker's message.max.bytes)";
const DENIED = "the sink's Kafka principal may not write to it: grant it WRITE (and DESCRIBE) on the dead-letter topic";
const MISSING =
  'it does not exist and the sink does not create topics while running: ' +
  'create it (topics.deadLetter), or restart the sink to create it';
const REFUSED =
  "the broker refuses the records under the topic's settings: " +
  "check the topic's configuration (cleanup.policy delete, message format)";
const PERMANENT: Record<string, string> = {
  MESSAGE_TOO_LARGE: TOO_LARGE,
  RECORD_LIST_TOO_LARGE: TOO_LARGE,
  TOPIC_AUTHORIZATION_FAILED: DENIED,
  CLUSTER_AUTHORIZATION_FAILED: DENIED,
  UNKNOWN_TOPIC_OR_PARTITION: MISSING,
  INVALID_TOPIC_EXCEPTION: MISSING,
  POLICY_VIOLATION: REFUSED,
  INVALID_RECORD: REFUSED,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: REFUSED,
};

/** The kafkajs protocol error types of an error, its causes and its aggregated errors. */
function kafkaTypes(err: unknown, depth = 0): string[] {
  if (!err || typeof err !== 'object' || depth > 5) return [];
  const e = err as { type?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown[] };
  const own = typeof e.type === 'string' ? [e.type] : [];
  const nested = [e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : [])].flatMap((c) =>
    kafkaTypes(c, depth + 1),
  );
  return [...own, ...nested];
}
