import { Kafka, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import type { Level, Logger } from '../kernel/logger';
import type { KafkaOptions } from './options';
import { useOwnRecordEncoding } from './produce-encoding';
import { useFetchGunzip } from './fetch-gunzip';
import { useFetchRecordDecoder } from './fetch-records';
import { isClosedOnPurpose, useFreshFraming, useVersionedConnect } from './connections';
import { useFastGzipCodec } from './gzip-fast';
import { useZstdCodec } from './zstd';

/**
 * The messages of the broker errors kafkajs retries by itself (its protocol error table, e.g.
 * "The coordinator is loading…" while a fresh broker loads its group metadata). kafkajs logs each
 * failed response at `error` before it retries; if the retries run out, the caller gets the error
 * and reports it. kafkajs exports no types for this table: it is read from the pinned version.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { errorCodes } = require('kafkajs/src/protocol/error') as {
  errorCodes: { message: string; retriable: boolean }[];
};
const RETRIED = new Set(errorCodes.filter((e) => e.retriable).map((e) => e.message));

/**
 * Our level for a kafkajs log entry: a response error kafkajs will retry, or a socket a read closed
 * itself, is debug, not error.
 */
export function kafkaLogLevel(entry: Pick<LogEntry, 'level' | 'log'>): Level {
  if (entry.level <= KafkaLogLevel.ERROR) {
    // a socket a read closed itself (read-cluster.ts): kafkajs reports it as a connection error
    if (isClosedOnPurpose(entry.log.message ?? '')) return 'debug';
    const error = (entry.log as { error?: unknown }).error;
    return typeof error === 'string' && RETRIED.has(error) ? 'debug' : 'error';
  }
  return entry.level === KafkaLogLevel.WARN ? 'warn' : 'debug';
}

let decoderWarned = false;

/**
 * What every kafkajs client of this process speaks through (the codec table, the Record decoder
 * and the Broker's connect are the process's: connections.ts): createKafka calls it; a caller that
 * brings its own Kafka instance (a test's, with a socket factory of its own) calls it too, so that
 * client encodes, decodes and connects the same way.
 */
export function useKafkaCodecs(logger: Logger): void {
  useOwnRecordEncoding();
  useZstdCodec();
  useFastGzipCodec();
  useFetchGunzip();
  useVersionedConnect();
  useFreshFraming();
  if (!useFetchRecordDecoder() && !decoderWarned) {
    // only speed is lost (kafkajs's decoder goes on, same records): said once, not at every client
    decoderWarned = true;
    logger.warn(
      "kafka: fetched records are decoded by kafkajs's own decoder (a fetch was made in this process " +
        'before the first createKafka): same records, more CPU a record',
    );
  }
}

/**
 * Builds the kafkajs client from options, routing its logs through our redacting logger. Its produce
 * requests encode their records with produce-encoding.ts (same bytes, a fraction of the CPU), and its
 * producers and consumers know zstd (zstd.ts), write gzip at zlib's fastest level (gzip-fast.ts) and
 * decompress gzip in one output chunk sized by the gzip trailer (fetch-gunzip.ts: same bytes, ~¼ of
 * the CPU of zlib's 16 KiB chunks), and its fetched records are decoded by fetch-records.ts
 * (kafkajs's objects without its per-record Longs). The codec table and the Record decoder are the
 * process's: every client of it reads so.
 */
export function createKafka(opts: KafkaOptions, logger: Logger): Kafka {
  useKafkaCodecs(logger);
  return new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    ssl: opts.ssl,
    sasl: opts.sasl,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...fields } = entry.log;
      logger[kafkaLogLevel(entry)](`kafka: ${message}`, { namespace: entry.namespace, ...fields });
    },
  });
}
