/**
 * The few Confluent-compatible registry calls that @kafkajs/confluent-schema-registry does not
 * offer (or offers in a form that does not fit):
 *  - per-subject compatibility, read and set (GET/PUT /config/{subject}): the library only sets
 *    it on a subject's first registration, and refuses to register when it differs;
 *  - registering a non-record schema: the library rejects schemas without a name, so our Avro
 *    "string" key schema goes through POST /subjects/{subject}/versions here.
 * Works against Confluent Schema Registry and Apicurio's /apis/ccompat/v7 alike.
 */
export type CompatibilityLevel =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

export interface CcompatClient {
  /** The subject's own compatibility level, or null when it has none (HTTP 404). */
  getCompatibility(subject: string): Promise<CompatibilityLevel | null>;
  setCompatibility(subject: string, level: CompatibilityLevel): Promise<void>;
  /** Registers (or finds) the schema under the subject; resolves to its registry id. */
  registerSchema(subject: string, schema: string): Promise<number>;
}

/** A non-2xx answer: `status` and the registry's own message (and error_code when given). */
export class RegistryHttpError extends Error {
  constructor(
    readonly status: number,
    readonly registryMessage: string,
    readonly errorCode?: number,
  ) {
    super(`HTTP ${status}: ${registryMessage}`);
    this.name = 'RegistryHttpError';
  }
}

export interface CcompatOptions {
  /** Base URL of the Confluent-compatible API, e.g. http://127.0.0.1:8081/apis/ccompat/v7. */
  url: string;
  auth?: { username: string; password: string };
  /** Injectable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Per-request timeout in ms (default 10_000). */
  timeoutMs?: number;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** Network failures reject with the fetch error (callers classify them as retriable). */
export function createCcompatClient(opts: CcompatOptions): CcompatClient {
  const base = opts.url.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const headers: Record<string, string> = { Accept: CONTENT_TYPE, 'Content-Type': CONTENT_TYPE };
  if (opts.auth) headers.Authorization = 'Basic ' + Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64');

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; data: Record<string, unknown> }> {
    const res = await doFetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let data: Record<string, unknown>;
    try {
      data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      data = { message: text.slice(0, 500) };
    }
    if (!res.ok) throw new RegistryHttpError(res.status, String(data.message ?? res.statusText), data.error_code as number | undefined);
    return { status: res.status, data };
  }

  const subjectPath = (subject: string) => encodeURIComponent(subject);
  return {
    async getCompatibility(subject) {
      try {
        const { data } = await call('GET', `/config/${subjectPath(subject)}`);
        return (data.compatibilityLevel ?? data.compatibility ?? null) as CompatibilityLevel | null;
      } catch (err) {
        if (err instanceof RegistryHttpError && err.status === 404) return null;
        throw err;
      }
    },
    async setCompatibility(subject, level) {
      await call('PUT', `/config/${subjectPath(subject)}`, { compatibility: level });
    },
    async registerSchema(subject, schema) {
      const { data } = await call('POST', `/subjects/${subjectPath(subject)}/versions`, { schema });
      return data.id as number;
    },
  };
}
