import type { Kafka, KafkaMessage } from 'kafkajs';
import { FatalError } from '../kernel/errors';
import { closeSockets, useFreshFraming, useVersionedConnect } from './connections';

/**
 * A kafkajs Cluster for reading partitions directly, without a consumer group: kafkajs 2.2.4 has
 * no assign(), and a group costs a read the broker's group.initial.rebalance.delay.ms (Kafka's
 * default 3,000 ms a read), needs Group ACLs and leaves a group behind after a crash.
 *
 * The cluster is made by the Kafka instance's own factory (the private `createCluster` of
 * kafkajs's Kafka class, found by its Symbol's description), so it is configured exactly as the
 * producers, consumers and admins of that instance: brokers, SSL, SASL, client id, timeouts,
 * retry, logger, socket factory. These are kafkajs internals of the pinned version (package.json
 * pins 2.2.4): if an upgrade changes them, the read fails at once with KAFKAJS_INTERNALS_CHANGED
 * naming what is missing, never falling back to something else.
 */

/** The parts of kafkajs's Cluster (src/cluster/index.js) a partition read uses. */
export interface ReadCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  /** nodeId -> partitions it leads */
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(opts: { nodeId: string }): Promise<ReadBroker>;
  /** ListOffsets with the cluster's isolation level: the latest offset is the last stable one. */
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

export interface FetchPartitionData {
  partition: number;
  errorCode: number;
  highWatermark: string;
  lastStableOffset?: string;
  abortedTransactions?: { producerId: string; firstOffset: string }[];
  messages: RawMessage[];
}

/** A decoded record as kafkajs's fetch response holds it, with its record batch's header. */
export type RawMessage = KafkaMessage & {
  isControlRecord?: boolean;
  batchContext?: { firstOffset: string; lastOffsetDelta: number; producerId: string; inTransaction: boolean };
};

export interface ReadBroker {
  fetch(request: {
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: FetchPartitionData[] }[] }>;
}

/** kafkajs's consumer Batch (src/consumer/batch.js): records before the fetched offset and control records dropped. */
export interface KafkaBatch {
  readonly messages: KafkaMessage[];
}
export type KafkaBatchClass = new (
  topic: string,
  fetchedOffset: string,
  partitionData: FetchPartitionData,
) => KafkaBatch;

const CREATE_CLUSTER = 'private:Kafka:createCluster';
const CLUSTER_METHODS = [
  'connect',
  'disconnect',
  'addTargetTopic',
  'refreshMetadata',
  'findTopicPartitionMetadata',
  'findLeaderForPartitions',
  'findBroker',
  'fetchTopicsOffset',
] as const;

/** kafkajs's isolation level READ_COMMITTED (src/protocol/isolationLevel.js). */
export const READ_COMMITTED = 1;
/** As kafkajs's consumer (DEFAULT_METADATA_MAX_AGE in src/index.js). */
const METADATA_MAX_AGE = 300_000;

function changed(what: string): FatalError {
  return new FatalError(
    'KAFKAJS_INTERNALS_CHANGED',
    `the installed kafkajs lacks ${what}, which reading a topic without a consumer group uses ` +
      `(kafka/read-cluster.ts, written for kafkajs 2.2.4, the version package.json pins)`,
  );
}

/** A new, unconnected cluster of `kafka`, reading committed records only. */
export function readCluster(kafka: Kafka): ReadCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER);
  const create = symbol && (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof create !== 'function') throw changed(`the Kafka instance's ${CREATE_CLUSTER}`);
  const cluster = (create as (opts: object) => unknown)({
    metadataMaxAge: METADATA_MAX_AGE,
    allowAutoTopicCreation: false,
    isolationLevel: READ_COMMITTED,
  }) as Record<string, unknown>;
  const missing = CLUSTER_METHODS.filter((m) => typeof cluster?.[m] !== 'function');
  if (missing.length) throw changed(`Cluster methods ${missing.join(', ')}`);
  const pool = cluster.brokerPool as Partial<BrokerPool> | undefined;
  if (typeof pool?.createSeedBroker !== 'function' || typeof pool.createBroker !== 'function' || !pool.brokers) {
    throw changed("the Cluster's brokerPool (createSeedBroker, createBroker, brokers)");
  }
  // a Broker whose first connect met a silent connection connects again, and a Connection that
  // connects again reads from a clean frame (connections.ts)
  useVersionedConnect();
  useFreshFraming();
  return cluster as unknown as ReadCluster;
}

/** The parts of kafkajs's BrokerPool (src/cluster/brokerPool.js) `sever` uses. */
interface BrokerPool {
  createSeedBroker(): Promise<void>;
  createBroker(options: object): PooledBroker;
  seedBroker?: PooledBroker;
  brokers: Record<string, PooledBroker | undefined>;
}
interface PooledBroker {
  connect(): Promise<void>;
  connectionPool?: { pool?: PooledConnection[] };
}
interface PooledConnection {
  connect(): Promise<unknown>;
  socket?: { destroy(error?: Error): void };
}

/** Every broker of `pool`: its seed broker and the brokers it knows. */
function brokers(pool: BrokerPool): (PooledBroker | undefined)[] {
  return [pool.seedBroker, ...Object.values(pool.brokers)];
}

/**
 * Closes every connection `cluster` has open, as Kafka's Java client closes a connection whose
 * request timed out: kafkajs rejects the timed-out request and keeps the connection, so every
 * later request of the read went on it. A connection that went silent (a broker paused or wedged,
 * a NAT or firewall that dropped its state, a peer gone without a FIN) then failed each request at
 * its timeout until the read's deadline (read-to-end-stall.test.ts). kafkajs's Connection takes
 * the destroyed socket as a connection error (its pending requests rejected, its status
 * disconnected) and connects again at the next request. Only between a read's rounds, when none
 * of its requests is in flight.
 */
export function dropConnections(cluster: ReadCluster): void {
  const pool = (cluster as unknown as { brokerPool: BrokerPool }).brokerPool;
  closeSockets(brokers(pool), 'a request of this read timed out: connecting again');
}

/**
 * Ends whatever `cluster` still has in flight, at once, and lets it connect no more: a read that
 * gave up (its deadline) or failed may leave kafkajs connecting or waiting on a request. kafkajs's
 * BrokerPool.connect is a retrier that makes a NEW seed broker after each connection error (the
 * one its own disconnect causes included) and tries again after a delay, and a request reconnects
 * a connection that is down: so it would go on connecting after the read had failed, and a
 * connection it opened then was never closed. And its Connection.disconnect waits for pending
 * requests (up to requestTimeout, 30 s, on a broker that accepts and never answers). So every
 * broker and connection, and any made later, refuses to connect with a non-retriable error (the
 * retrier gives up on it), and every open socket is destroyed (kafkajs rejects its pending
 * requests). Only for a cluster of readCluster, which reads and is thrown away.
 */
export function sever(cluster: ReadCluster): void {
  const pool = (cluster as unknown as { brokerPool: BrokerPool }).brokerPool;
  const refuse = () =>
    Promise.reject(new FatalError('READ_CLUSTER_CLOSED', 'this read of a topic has ended: no new connection'));
  const seal = (broker: PooledBroker | undefined) => {
    if (!broker) return;
    broker.connect = refuse;
    for (const connection of broker.connectionPool?.pool ?? []) connection.connect = refuse;
  };
  pool.createSeedBroker = refuse;
  const createBroker = pool.createBroker.bind(pool);
  pool.createBroker = (options) => {
    const broker = createBroker(options);
    seal(broker);
    return broker;
  };
  seal(pool.seedBroker);
  for (const broker of Object.values(pool.brokers)) seal(broker);
  closeSockets(brokers(pool), 'the read of the topic has ended');
}

let batchClass: KafkaBatchClass | undefined;

/** kafkajs's consumer Batch class. */
export function kafkaBatch(): KafkaBatchClass {
  if (batchClass) return batchClass;
  let loaded: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('kafkajs/src/consumer/batch');
  } catch (err) {
    throw changed(`src/consumer/batch.js (${(err as Error).message})`);
  }
  if (typeof loaded !== 'function') throw changed('a Batch class in src/consumer/batch.js');
  return (batchClass = loaded as KafkaBatchClass);
}
