import { Kafka, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import type { Logger } from '../core/logger';
import type { KafkaOptions } from './options';

/** Builds the kafkajs client from options, routing its logs through our redacting logger. */
export function createKafka(opts: KafkaOptions, logger: Logger): Kafka {
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
      const level = entry.level <= KafkaLogLevel.ERROR ? 'error' : entry.level === KafkaLogLevel.WARN ? 'warn' : 'debug';
      logger[level](`kafka: ${message}`, { namespace: entry.namespace, ...fields });
    },
  });
}
