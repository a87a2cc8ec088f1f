import type { IHeaders, Producer } from 'kafkajs';
import type { ConnectorError } from '../../pipeline/core/errors';
import { DEAD_LETTER_HEADERS } from '../../pipeline/kafka/options';
import { sqlstateOf } from './classify';
import type { SourceRecord } from './collapse';

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

export function createDeadLetter(producer: Producer, topic: string, now: () => Date = () => new Date()): DeadLetter {
  return {
    topic,
    async send(entries) {
      if (entries.length === 0) return;
      await producer.send({
        topic,
        acks: -1,
        messages: entries.map((e) => ({ key: e.source.key, value: e.source.value, headers: deadLetterHeaders(e, now()) })),
      });
    },
  };
}

export function deadLetterHeaders(entry: DeadLetterEntry, at: Date): IHeaders {
  const headers: IHeaders = { ...(entry.source.headers ?? {}) };
  headers[DEAD_LETTER_HEADERS.reason] = entry.error.message.slice(0, 2000);
  headers[DEAD_LETTER_HEADERS.errorCode] = entry.error.code;
  const state = sqlstateOf(entry.error);
  if (state) headers[DEAD_LETTER_HEADERS.sqlstate] = state;
  headers[DEAD_LETTER_HEADERS.sourceTopic] = entry.source.topic;
  headers[DEAD_LETTER_HEADERS.sourcePartition] = String(entry.source.partition);
  headers[DEAD_LETTER_HEADERS.sourceOffset] = entry.source.offset;
  headers[DEAD_LETTER_HEADERS.failedAt] = at.toISOString();
  return headers;
}
