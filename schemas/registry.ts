import { COMPATIBILITY, SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { ConnectorError, FatalError, RetriableError } from '../kernel/errors';
import { withRetry, type RetryOptions } from '../kernel/retry';
import { silentLogger, type Logger } from '../kernel/logger';
import type { AvroSchemaJson, ConnectorSchemas } from './avro';
import {
  asRegistryHttpError,
  registryClient,
  RegistryHttpError,
  type CompatibilityLevel,
  type RegistryAdmin,
  type RegistryConfig,
} from './registry-client';

export { REGISTRY_CLIENT_ID, REGISTRY_TIMEOUT_MS, type RegistryConfig } from './registry-client';

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

/** The two clients registration needs; fromConfig builds real ones, tests may pass their own. */
export interface RegistryClients {
  /** The library client: registers record schemas and later fetches writer schemas by id. */
  readonly registry: SchemaRegistry;
  /** Per-subject config, and registration of non-record schemas (see registry-client.ts). */
  readonly admin: RegistryAdmin;
}

/** Both faces of the one registry client (registry-client.ts). */
export function registryFromConfig(config: RegistryConfig): RegistryClients {
  const client = registryClient(config);
  return { registry: client.library, admin: client };
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
const BACKWARD_OR_STRICTER: readonly CompatibilityLevel[] = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
];

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
export async function registerTopicSchemas(
  clients: RegistryClients,
  sets: readonly TopicSchemaSet[],
  opts: RegisterOptions = {},
): Promise<RegisteredTopic[]> {
  const logger = opts.logger ?? silentLogger;
  const out: RegisteredTopic[] = [];
  for (const set of sets) {
    const key = await registerSubject(clients, `${set.topic}-key`, set.key, logger, opts.retry);
    const value = await registerSubject(clients, `${set.topic}-value`, set.value, logger, opts.retry);
    out.push({ topic: set.topic, key, value });
  }
  return out;
}

async function registerSubject(
  clients: RegistryClients,
  subject: string,
  schema: AvroSchemaJson,
  logger: Logger,
  retry?: RetryOptions,
): Promise<RegisteredSchema> {
  const attempt = <T>(what: string, fn: () => Promise<T>) =>
    withRetry(() => fn().catch((err) => Promise.reject(classifyRegistryError(err, subject, what))), retry);

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
      const { id } = await clients.registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject, compatibility: level as COMPATIBILITY },
      );
      return id;
    }
    return clients.admin.registerSchema(subject, JSON.stringify(schema));
  });
  logger.info('schema registered', { subject, id, compatibility: level });
  return { subject, id, compatibility: level };
}

function isRecordSchema(schema: AvroSchemaJson): boolean {
  return (
    typeof schema === 'object' &&
    schema !== null &&
    !Array.isArray(schema) &&
    (schema as { type?: unknown }).type === 'record'
  );
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
    return new FatalError(
      'SCHEMA_INCOMPATIBLE',
      `schema registry: the schema for subject ${subject} is incompatible with its registered versions: ${message}`,
      { cause: err },
    );
  }
  if (status === 422) return new FatalError('SCHEMA_INVALID', say, { cause: err });
  if (status === 401 || status === 403) return new FatalError('REGISTRY_UNAUTHORIZED', say, { cause: err });
  if (status === undefined || status >= 500 || status === 408 || status === 429)
    return new RetriableError('REGISTRY_UNAVAILABLE', say, { cause: err });
  return new FatalError('REGISTRY_REQUEST_FAILED', say, { cause: err });
}

function statusOf(err: unknown): number | undefined {
  const e = asRegistryHttpError(err);
  if (e instanceof RegistryHttpError) return e.status;
  // The library reports a compatibility-level mismatch without an HTTP status: a config problem.
  if ((err as Error | null)?.name?.startsWith('ConfluentSchemaRegistry')) return 400;
  return undefined;
}

function registryMessage(err: unknown): string {
  const e = asRegistryHttpError(err);
  if (e instanceof RegistryHttpError) return e.registryMessage;
  return err instanceof Error ? err.message : String(err);
}
