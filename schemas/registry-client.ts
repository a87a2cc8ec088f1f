import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import createApi, { type SchemaRegistryAPIClientArgs } from '@kafkajs/confluent-schema-registry/dist/api';

/**
 * The one client of the Confluent-compatible schema registry (Confluent, or Apicurio's
 * /apis/ccompat/v7). Every module that talks to the registry goes through it: registration at
 * start-up, the sink's writer-schema look-ups, `connector check`, state reading and the tests.
 *
 * It is @kafkajs/confluent-schema-registry: `library` encodes, decodes and registers record
 * schemas; the other calls use the library's own HTTP client (its dist/api, built with the
 * same arguments: timeout, auth, retries), because its high-level API lacks them:
 *  - per-subject compatibility, read and set: the library only sets it on a subject's first
 *    registration, and refuses to register when it differs;
 *  - registering a non-record schema: the library rejects schemas without a name, so the Avro
 *    "string" key schema is posted as it is;
 *  - a schema's JSON by id and a subject's latest version: the sink needs the JSON (logical
 *    types), not the avsc Type the library builds.
 * Every failure is a RegistryHttpError: the HTTP status (undefined when no answer came: refused,
 * reset, timed out) and the registry's own message, without the library's client-id prefix.
 */
export type CompatibilityLevel =
  'NONE' | 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE';

export interface RegistryConfig {
  /** Confluent-compatible base URL, e.g. http://127.0.0.1:8081/apis/ccompat/v7 for Apicurio 3. */
  url: string;
  auth?: { username: string; password: string };
}

/** The calls beyond the library's own (registration needs the first three). */
export interface RegistryAdmin {
  /** The subject's own compatibility level, or null when it has none (HTTP 404). */
  getCompatibility(subject: string): Promise<CompatibilityLevel | null>;
  setCompatibility(subject: string, level: CompatibilityLevel): Promise<void>;
  /** Registers (or finds) the schema under the subject; resolves to its registry id. */
  registerSchema(subject: string, schema: string): Promise<number>;
}

export interface RegistryClient extends RegistryAdmin {
  /** The library client: registers record schemas, encodes and decodes (wire format). */
  readonly library: SchemaRegistry;
  /** The schema text with this id; null when the registry does not know the id (HTTP 404). */
  schemaById(id: number): Promise<string | null>;
  /** The newest version of a subject; null when the subject does not exist (HTTP 404). */
  latest(subject: string): Promise<{ id: number; version: number; schema: string } | null>;
  subjects(): Promise<string[]>;
  /** The subject's version numbers; [] when it does not exist. */
  versions(subject: string): Promise<number[]>;
  /** Deletes a subject (soft, then with `permanent` for good); a missing subject is no error. */
  deleteSubject(subject: string, opts?: { permanent?: boolean }): Promise<void>;
}

/** A registry call that failed: `status` absent when no HTTP answer came (a passing outage). */
export class RegistryHttpError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly registryMessage: string,
    readonly errorCode?: number,
  ) {
    super(status === undefined ? registryMessage : `HTTP ${status}: ${registryMessage}`);
    this.name = 'RegistryHttpError';
  }
}

export const REGISTRY_CLIENT_ID = 'sf-neurons-connector';

/**
 * Each registry request's limit, in ms. The library's HTTP client has none: a registry that
 * accepts the connection and never answers would hang start-up, and a schema look-up the sink.
 */
export const REGISTRY_TIMEOUT_MS = 10_000;

type Middleware = NonNullable<SchemaRegistryAPIClientArgs['middlewares']>[number];
const requestTimeout =
  (ms: number): Middleware =>
  () => ({
    prepareRequest: async (next) => {
      const request = await next();
      return request.timeout() ? request : request.enhance({ timeout: ms });
    },
  });

/** mappersmith (under the library) reports a connection that failed as a status-400 "response". */
const NO_ANSWER = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|socket hang up|Timeout \(\d+ms\)/;

/** The library's error (or mappersmith's) as a RegistryHttpError; anything else unchanged. */
export function asRegistryHttpError(err: unknown): unknown {
  if (err instanceof RegistryHttpError || !(err instanceof Error)) return err;
  const status = (err as { status?: unknown }).status;
  if (typeof status !== 'number') return err;
  const text = err.message.startsWith(`${REGISTRY_CLIENT_ID} - `)
    ? err.message.slice(REGISTRY_CLIENT_ID.length + 3)
    : err.message;
  const out = new RegistryHttpError(status === 400 && NO_ANSWER.test(text) ? undefined : status, text);
  return Object.assign(out, { cause: err });
}

interface ApiResponse {
  data(): unknown;
  status(): number;
}

export function registryClient(config: RegistryConfig, opts: { timeoutMs?: number } = {}): RegistryClient {
  const args: SchemaRegistryAPIClientArgs = {
    host: config.url.replace(/\/+$/, ''),
    clientId: REGISTRY_CLIENT_ID,
    auth: config.auth,
    middlewares: [requestTimeout(opts.timeoutMs ?? REGISTRY_TIMEOUT_MS)],
  };
  const library = new SchemaRegistry(args);
  // The library's own HTTP client (its `api` is private): the same arguments, so the same
  // timeout, auth, retries of 5xx and error middleware.
  const api = createApi(args);
  const own = ownHttp(config, opts.timeoutMs ?? REGISTRY_TIMEOUT_MS);
  const call = async (fn: () => Promise<ApiResponse>): Promise<ApiResponse> => {
    try {
      return await fn();
    } catch (err) {
      throw asRegistryHttpError(err);
    }
  };
  /** The body of a 2xx answer, or null for a 404. */
  const orNull = async (fn: () => Promise<ApiResponse>): Promise<Record<string, unknown> | null> => {
    try {
      return (await call(fn)).data() as Record<string, unknown>;
    } catch (err) {
      if (err instanceof RegistryHttpError && err.status === 404) return null;
      throw err;
    }
  };

  return {
    library,
    async getCompatibility(subject) {
      const data = await orNull(() => api.Subject.config({ subject }));
      return (data?.compatibilityLevel ?? data?.compatibility ?? null) as CompatibilityLevel | null;
    },
    async setCompatibility(subject, level) {
      await call(() => api.Subject.updateConfig({ subject, body: { compatibility: level } }));
    },
    async registerSchema(subject, schema) {
      const data = (await call(() => api.Subject.register({ subject, body: { schema } }))).data() as { id: number };
      return data.id;
    },
    async schemaById(id) {
      const data = await orNull(() => api.Schema.find({ id }));
      return data === null ? null : String(data.schema);
    },
    async latest(subject) {
      const data = await orNull(() => api.Subject.latestVersion({ subject }));
      return data === null
        ? null
        : { id: data.id as number, version: data.version as number, schema: String(data.schema) };
    },
    async subjects() {
      return (await call(() => api.Subject.all({}))).data() as string[];
    },
    async versions(subject) {
      return ((await own('GET', `/subjects/${encodeURIComponent(subject)}/versions`)) as number[] | null) ?? [];
    },
    async deleteSubject(subject, o = {}) {
      await own('DELETE', `/subjects/${encodeURIComponent(subject)}${o.permanent ? '?permanent=true' : ''}`);
    },
  };
}

/**
 * The library's resource list has no version list and no subject deletion (only tests and
 * clean-ups use them): these two go over fetch, with the same base URL, auth, timeout and errors.
 * Resolves to the JSON body, or null for a 404.
 */
function ownHttp(config: RegistryConfig, timeoutMs: number) {
  const base = config.url.replace(/\/+$/, '');
  const headers: Record<string, string> = { Accept: 'application/vnd.schemaregistry.v1+json' };
  if (config.auth) {
    const { username, password } = config.auth;
    headers.Authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  return async (method: 'GET' | 'DELETE', path: string): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(base + path, { method, headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw Object.assign(new RegistryHttpError(undefined, `${method} ${path}: ${(err as Error).message}`), {
        cause: err,
      });
    }
    const text = await res.text();
    let body: Record<string, unknown>;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = { message: text.slice(0, 300) };
    }
    if (res.status === 404) return null;
    if (!res.ok)
      throw new RegistryHttpError(
        res.status,
        String(body.message ?? res.statusText),
        body.error_code as number | undefined,
      );
    return body;
  };
}
