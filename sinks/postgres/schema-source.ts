import type { AvroSchemaJson } from '../../schemas/avro';
import {
  registryClient,
  RegistryHttpError,
  type RegistryClient,
  type RegistryConfig,
} from '../../schemas/registry-client';
import { FatalError, RecordError, RetriableError } from '../../kernel/errors';

/**
 * Writer schemas as JSON, from a Confluent-compatible registry. The sink needs the JSON (not
 * only an avsc Type) because logical types (timestamp-millis) decide column types, and avsc
 * drops them from types built without logical-type classes.
 */
export interface SchemaSource {
  /**
   * The schema with this registry id. Rejects with a RetriableError: SCHEMA_NOT_FOUND when the
   * registry does not know the id, REGISTRY_UNAVAILABLE when it cannot be reached or fails. An
   * unknown id is registry trouble, not a bad record: a registry restarted empty or pointed at
   * the wrong path knows no id at all, and the schemas come back when the connector registers
   * them again. The sink waits (its circuit breaker stops it if that never happens).
   */
  byId(id: number): Promise<AvroSchemaJson>;
  /** The newest version registered under `subject`, or undefined when the subject does not exist. Same rejections. */
  latest(subject: string): Promise<{ id: number; schema: AvroSchemaJson } | undefined>;
}

/**
 * Over the one registry client (schemas/registry-client.ts, 10 s per request). Its failures
 * become the sink's table: no answer, 5xx, 408 and 429 are REGISTRY_UNAVAILABLE (retriable),
 * 401/403 REGISTRY_UNAUTHORIZED, any other refusal REGISTRY_REQUEST_FAILED.
 */
export function registrySchemaSource(
  config: RegistryConfig,
  client: RegistryClient = registryClient(config),
): SchemaSource {
  const failed =
    (what: string) =>
    (err: unknown): never => {
      const e = err instanceof RegistryHttpError ? err : new RegistryHttpError(undefined, (err as Error).message);
      const status = e.status;
      if (status === undefined || status >= 500 || status === 408 || status === 429) {
        throw new RetriableError('REGISTRY_UNAVAILABLE', `schema registry: ${what} failed: ${e.message}`, {
          cause: err,
        });
      }
      if (status === 401 || status === 403)
        throw new FatalError('REGISTRY_UNAUTHORIZED', `schema registry: ${what} answered ${status}`, { cause: err });
      throw new FatalError('REGISTRY_REQUEST_FAILED', `schema registry: ${what}: HTTP ${status} ${e.registryMessage}`, {
        cause: err,
      });
    };
  const parse = (text: unknown, what: string): AvroSchemaJson => {
    try {
      return JSON.parse(String(text)) as AvroSchemaJson;
    } catch (err) {
      throw new RecordError(`schema registry: ${what} is not JSON`, { code: 'SCHEMA_NOT_FOUND', cause: err });
    }
  };

  return {
    async byId(id) {
      const text = await client.schemaById(id).catch(failed(`schema id ${id}`));
      if (text === null)
        throw new RetriableError(
          'SCHEMA_NOT_FOUND',
          `schema id ${id} is not in the schema registry (restarted empty, or the wrong registry.url?)`,
        );
      return parse(text, `schema id ${id}`);
    },
    async latest(subject) {
      const found = await client.latest(subject).catch(failed(`latest of ${subject}`));
      if (found === null) return undefined;
      return { id: found.id, schema: parse(found.schema, `latest schema of ${subject}`) };
    },
  };
}
