/**
 * The topic contract: the names, settings and record headers that the connector writes and the
 * sink and downstream consumers read (docs/consumers.md). Pure data, no Kafka client.
 */
import { LOGINS } from './streams/logins';
import { USERS } from './streams/users';

/** The topics a connector uses; defaults from the design brief (users and logins: their declarations). */
export interface TopicNames {
  users: string;
  logins: string;
  state: string;
  deadLetter: string;
  /** Topics of the other declared streams (schemas/streams), by stream name; a stream not named
   *  here uses its declaration's default topic. */
  streams?: Readonly<Record<string, string>>;
}

export const DEFAULT_TOPICS: TopicNames = {
  users: USERS.topic.defaultName,
  logins: LOGINS.topic.defaultName,
  state: 'salesforce.neurons.connector-state',
  deadLetter: 'salesforce.neurons.dead-letter',
};

/** What provisioning needs of a declared stream's topic. */
export interface StreamTopicSpec {
  /** The topic's name (the config's, or the declaration's default). */
  name: string;
  /** Compacted (snapshot streams: the latest record per key, tombstones delete) or time-retained. */
  compacted: boolean;
  /** Retention of a non-compacted topic, in days (default 30). */
  retentionDays?: number;
}

export interface TopicSettings {
  /** Partitions of new topics (default 3 for data topics; the state topic always has 1). */
  partitions: number;
  /** Replication factor of new topics (default: the broker's default). */
  replicationFactor?: number;
  /** Retention of the login-history topic, in ms (default 30 days). */
  loginRetentionMs: number;
  /** How long the users topic keeps tombstones (delete.retention.ms), in ms (default 7 days): a
   *  sink down for longer misses those deletions. */
  tombstoneRetentionMs?: number;
}

export const DEFAULT_TOMBSTONE_RETENTION_MS = 7 * 24 * 3600 * 1000;

export const DEFAULT_TOPIC_SETTINGS: TopicSettings = {
  partitions: 3,
  loginRetentionMs: 30 * 24 * 3600 * 1000,
  tombstoneRetentionMs: DEFAULT_TOMBSTONE_RETENTION_MS,
};

/** Record headers every published record carries (run id, connector name, source org). */
export const HEADERS = {
  runId: 'neurons-run-id',
  connector: 'neurons-connector',
  org: 'neurons-source-org',
  /** Hash of a user's content (without run metadata): lets the next run skip unchanged users. */
  contentHash: 'neurons-content-hash',
  /** The device of the user's latest successful login the record carries (DeviceCodec): what a
   *  run that republishes the user without a newer login keeps. */
  device: 'neurons-device',
  /** The user's UserLogin flags the record carries (IsFrozen, IsPasswordLocked: 't'/'f' each,
   *  see user-login-flags.ts): what a run that cannot read UserLogin keeps. Absent: unknown. */
  userLogin: 'neurons-user-login',
} as const;

/**
 * Headers of a dead-lettered record, whoever dead-letters it: the run (a row that cannot become
 * a record: field and source object) or the sink (a record it cannot decode or write: SQLSTATE
 * and where the record came from). The record's own headers are kept beside them.
 */
export const DEAD_LETTER_HEADERS = {
  reason: 'neurons-dlq-reason',
  errorCode: 'neurons-dlq-error-code',
  failedAt: 'neurons-dlq-failed-at',
  field: 'neurons-dlq-field',
  sourceObject: 'neurons-dlq-source-object',
  sqlstate: 'neurons-dlq-sqlstate',
  sourceTopic: 'neurons-dlq-source-topic',
  sourcePartition: 'neurons-dlq-source-partition',
  sourceOffset: 'neurons-dlq-source-offset',
} as const;
