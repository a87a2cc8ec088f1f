import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { SchemaRegistryAPIClientArgs } from '@kafkajs/confluent-schema-registry/dist/api';
import { ConnectorError, FatalError, RetriableError } from '../kernel/errors';
import { withRetry, type RetryOptions } from '../kernel/retry';
import { silentLogger, type Logger } from '../kernel/logger';
import type { AvroSchemaJson, ConnectorSchemas } from './avro';
import { createCcompatClient, RegistryHttpError, type CcompatClient, type CompatibilityLevel } from './ccompat';

/**
 * Start-up registration of the connector's schemas, under TopicNameStrategy subjects
 * (`<topic>-key`, `<topic>-value`), each subject held to BACKWARD compatibility or stricter:
 * a consumer on the newest schema can always read everything still in the topics, which is
 * what replaying a compacted topic for backfill needs.
 *
 * An incompatible schema change makes registerTopicSchemas throw a FatalError
 * (code SCHEMA_INCOMPATIBLE) carrying the registry's own explanation: start-up stops before a
 * single record is written with a schema consumers could not read.
 */

export interface RegistryConfig {
  /** Confluent-compatible base URL, e.g. http://127.0.0.1:8081/apis/ccompat/v7 for Apicurio 3. */
  url: string;
  auth?: { username: string; password: string };
}

/** The two clients registration needs; fromConfig builds real ones, tests may pass their own. */
export interface RegistryClients {
  /** The library client: registers record schemas and later fetches writer schemas by id. */
  readonly registry: SchemaRegistry;
  /** Per-subject config, and registration of non-record schemas (see ccompat.ts). */
  readonly admin: CcompatClient;
}

export const REGISTRY_CLIENT_ID = 'sf-neurons-connector';

/**
 * Each registry request's limit, in ms. The library's HTTP client has none: a registry that
 * accepts the connection and never answers would hang start-up, and a schema look-up the sink.
 */
export const REGISTRY_TIMEOUT_MS = 10_000;
type RegistryMiddleware = NonNullable<SchemaRegistryAPIClientArgs['middlewares']>[number];
const requestTimeout: RegistryMiddleware = () => ({
  prepareRequest: async (next) => {
    const request = await next();
    return request.timeout() ? request : request.enhance({ timeout: REGISTRY_TIMEOUT_MS });
  },
});

export function registryFromConfig(config: RegistryConfig): RegistryClients {
  return {
    registry: new SchemaRegistry({
      host: config.url, clientId: REGISTRY_CLIENT_ID, auth: config.auth, middlewares: [requestTimeout],
    }),
    admin: createCcompatClient({ url: config.url, auth: config.auth, timeoutMs: REGISTRY_TIMEOUT_MS }),
  };
}

/** The key and value schema of one topic. */
export interface TopicSchemaSet {
  readonly topic: string;
  readonly key: AvroSchemaJson;
  readonly value: AvroSchemaJson;
}

export interface RegisteredSchema {
  readonly subject: string;
  /** Registry id to put in the wire format (with Apicurio: a content id, shared by equal schemas). */
  readonly id: number;
  /** The subject's compatibility level after registration (BACKWARD or stricter). */
  readonly compatibility: CompatibilityLevel;
}

export interface RegisteredTopic {
  readonly topic: string;
  readonly key: RegisteredSchema;
  readonly value: RegisteredSchema;
}

/** Topic names (configurable; defaults live in the connector's config). */
export interface ConnectorTopics {
  readonly users: string;
  readonly loginHistory: string;
  readonly state: string;
}

/** Pairs each connector topic with its schemas. Every key is an Avro string (see schemas/README.md). */
export function connectorTopicSchemas(topics: ConnectorTopics, schemas: ConnectorSchemas): TopicSchemaSet[] {
  return [
    { topic: topics.users, key: schemas.key, value: schemas.userValue },
    { topic: topics.loginHistory, key: schemas.key, value: schemas.loginEventValue },
    { topic: topics.state, key: schemas.key, value: schemas.runStateValue },
  ];
}

/** Levels at least as strict as BACKWARD: kept as they are when an operator chose them. */
const BACKWARD_OR_STRICTER: readonly CompatibilityLevel[] = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'];

export interface RegisterOptions {
  logger?: Logger;
  /** Retries of passing failures (registry down, 5xx); defaults: withRetry's. */
  retry?: RetryOptions;
}

/**
 * Registers every key and value schema, in order, and returns their ids. Idempotent: running it
 * again with the same schemas returns the same ids and registers nothing new.
 * Throws FatalError (SCHEMA_INCOMPATIBLE, SCHEMA_INVALID, REGISTRY_UNAUTHORIZED,
 * REGISTRY_REQUEST_FAILED) or, once retries are spent, RetriableError (REGISTRY_UNAVAILABLE).
 */
export async function registerTopicSchemas(clients: RegistryClients, sets: readonly TopicSchemaSet[], opts: RegisterOptions = {}): Promise<RegisteredTopic[]> {
  const logger = opts.logger ?? silentLogger;
  const out: RegisteredTopic[] = [];
  for (const set of sets) {
    const key = await registerSubject(clients, `${set.topic}-key`, set.key, logger, opts.retry);
    const value = await registerSubject(clients, `${set.topic}-value`, set.value, logger, opts.retry);
    out.push({ topic: set.topic, key, value });
  }
  return out;
}

async function registerSubject(clients: RegistryClients, subject: string, schema: AvroSchemaJson, logger: Logger, retry?: RetryOptions): Promise<RegisteredSchema> {
  const attempt = <T>(what: string, fn: () => Promise<T>) => withRetry(() => fn().catch((err) => Promise.reject(classifyRegistryError(err, subject, what))), retry);

  // Compatibility first, so that this very registration is already checked against it.
  let compatibility = await attempt('read compatibility', () => clients.admin.getCompatibility(subject));
  if (!compatibility || !BACKWARD_OR_STRICTER.includes(compatibility)) {
    if (compatibility) logger.warn('raising subject compatibility to BACKWARD', { subject, was: compatibility });
    await attempt('set compatibility', () => clients.admin.setCompatibility(subject, 'BACKWARD'));
    compatibility = 'BACKWARD';
  }
  const level = compatibility;
  const id = await attempt('register schema', async () => {
    if (isRecordSchema(schema)) {
      const { id } = await clients.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject, compatibility: level as COMPATIBILITY });
      return id;
    }
    return clients.admin.registerSchema(subject, JSON.stringify(schema));
  });
  logger.info('schema registered', { subject, id, compatibility: level });
  return { subject, id, compatibility: level };
}

function isRecordSchema(schema: AvroSchemaJson): boolean {
  return typeof schema === 'object' && schema !== null && !Array.isArray(schema) && (schema as { type?: unknown }).type === 'record';
}

/**
 * One table for every registry failure, from either client. The registry's own message is kept
 * (minus the library's client-id prefix) because it is the explanation an operator needs.
 */
export function classifyRegistryError(err: unknown, subject: string, what: string): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const status = statusOf(err);
  const message = registryMessage(err);
  const say = `schema registry: ${what} for subject ${subject} failed: ${message}`;
  if (status === 409) {
    return new FatalError('SCHEMA_INCOMPATIBLE', `schema registry: the schema for subject ${subject} is incompatible with its registered versions: ${message}`, { cause: err });
  }
  if (status === 422) return new FatalError('SCHEMA_INVALID', say, { cause: err });
  if (status === 401 || status === 403) return new FatalError('REGISTRY_UNAUTHORIZED', say, { cause: err });
  if (status === undefined || status >= 500 || status === 408 || status === 429) return new RetriableError('REGISTRY_UNAVAILABLE', say, { cause: err });
  return new FatalError('REGISTRY_REQUEST_FAILED', say, { cause: err });
}

const NETWORK_FAILURE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|socket hang up/;

function statusOf(err: unknown): number | undefined {
  if (err instanceof RegistryHttpError) return err.status;
  const status = (err as { status?: unknown } | null)?.status;
  // mappersmith (under the library) reports a failed connection as a status 400 "response".
  if (status === 400 && NETWORK_FAILURE.test((err as Error).message)) return undefined;
  if (typeof status === 'number') return status;
  // The library reports a compatibility-level mismatch without an HTTP status: a config problem.
  if ((err as Error | null)?.name?.startsWith('ConfluentSchemaRegistry')) return 400;
  return undefined;
}

function registryMessage(err: unknown): string {
  if (err instanceof RegistryHttpError) return err.registryMessage;
  const text = err instanceof Error ? err.message : String(err);
  return text.startsWith(`${REGISTRY_CLIENT_ID} - `) ? text.slice(REGISTRY_CLIENT_ID.length + 3) : text;
}
