import type { SASLOptions } from 'kafkajs';

/** How the connector reaches Kafka. TLS and SASL are optional; secrets are never logged. */
export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  /** true for TLS with the system CAs, or explicit PEMs. */
  ssl?: boolean | { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  sasl?: SASLOptions;
}
