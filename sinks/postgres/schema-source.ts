import type { AvroSchemaJson } from '../../schemas/avro';
import type { RegistryConfig } from '../../schemas/registry';
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

export interface RegistrySourceOptions {
  fetch?: typeof fetch;
  /** Per-request timeout in ms (default 10_000). */
  timeoutMs?: number;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export function registrySchemaSource(config: RegistryConfig, opts: RegistrySourceOptions = {}): SchemaSource {
  const base = config.url.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const headers: Record<string, string> = { Accept: CONTENT_TYPE };
  if (config.auth) headers.Authorization = 'Basic ' + Buffer.from(`${config.auth.username}:${config.auth.password}`).toString('base64');

  async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    let res: Response;
    try {
      res = await doFetch(base + path, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
    } catch (err) {
      throw new RetriableError('REGISTRY_UNAVAILABLE', `schema registry: GET ${path} failed: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let body: Record<string, unknown>;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = { message: text.slice(0, 300) };
    }
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      throw new RetriableError('REGISTRY_UNAVAILABLE', `schema registry: GET ${path} answered ${res.status}: ${String(body.message ?? '')}`);
    }
    if (res.status === 401 || res.status === 403) throw new FatalError('REGISTRY_UNAUTHORIZED', `schema registry: GET ${path} answered ${res.status}`);
    return { status: res.status, body };
  }

  const parse = (text: unknown, what: string): AvroSchemaJson => {
    try {
      return JSON.parse(String(text)) as AvroSchemaJson;
    } catch (err) {
      throw new RecordError(`schema registry: ${what} is not JSON`, { code: 'SCHEMA_NOT_FOUND', cause: err });
    }
  };

  return {
    async byId(id) {
      const { status, body } = await get(`/schemas/ids/${id}`);
      if (status === 404) throw new RetriableError('SCHEMA_NOT_FOUND', `schema id ${id} is not in the schema registry (restarted empty, or the wrong registry.url?)`);
      if (status !== 200) throw new FatalError('REGISTRY_REQUEST_FAILED', `schema registry: schema id ${id}: HTTP ${status} ${String(body.message ?? '')}`);
      return parse(body.schema, `schema id ${id}`);
    },
    async latest(subject) {
      const { status, body } = await get(`/subjects/${encodeURIComponent(subject)}/versions/latest`);
      if (status === 404) return undefined;
      if (status !== 200) throw new FatalError('REGISTRY_REQUEST_FAILED', `schema registry: latest of ${subject}: HTTP ${status} ${String(body.message ?? '')}`);
      return { id: body.id as number, schema: parse(body.schema, `latest schema of ${subject}`) };
    },
  };
}
