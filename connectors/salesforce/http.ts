/**
 * The one REST client of the extractor (describe, Bulk API 2.0 jobs and results), over fetch.
 * Every request goes through the same classification table:
 *
 *   response / failure                      what happens
 *   ─────────────────────────────────────   ──────────────────────────────────────────────────
 *   401 (INVALID_SESSION_ID)                re-authenticate once, send again; a second 401 is fatal
 *   403 REQUEST_LIMIT_EXCEEDED, daily       FatalError, actionable message; never sleeps for hours
 *   403 REQUEST_LIMIT_EXCEEDED, concurrent  RefusedError (retriable): too many long-running requests
 *     (ConcurrentPerOrgLongTxn)             right now; Salesforce ran nothing, so even a POST is
 *                                           sent again after a jittered backoff
 *   5xx, 429, network error, timeout        RetriableError; retried with jittered backoff only if
 *                                           the request is safe to repeat (GET, PATCH abort,
 *                                           DELETE) or provably never reached the server
 *   other 4xx                               FatalError carrying Salesforce's errorCode and message
 *
 * It also reads `Sforce-Limit-Info` into the ApiBudget and refuses calls past the budget share.
 * Messages never contain secrets (configured ones or the access token).
 */
import { ConnectorError, FatalError, RetriableError, isRetriable } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import { scrub } from '../../kernel/logger';
import { withRetry } from '../../kernel/retry';
import type { SessionProvider, Session } from './auth';
import type { FetchFn } from './fetch';
import { Inflater, RAW_ENCODING_HEADER } from './raw-gzip';
import type { ApiBudget } from './budget';

export type { FetchFn };

/** A network failure or timeout. `notSent`: the request provably never reached Salesforce. */
export class TransportError extends RetriableError {
  constructor(
    code: string,
    message: string,
    readonly notSent: boolean,
    opts: { cause?: unknown } = {},
  ) {
    super(code, message, opts);
  }
}

/** A short-lived refusal Salesforce answered before doing anything: safe to send again, even a POST. */
export class RefusedError extends RetriableError {}

/** The concurrency variant of REQUEST_LIMIT_EXCEEDED ("ConcurrentPerOrgLongTxn Limit exceeded.", or
 *  a message about concurrent requests), as opposed to the daily limit ("TotalRequests Limit exceeded."). */
export function isConcurrencyLimit(message: string): boolean {
  return /concurrent/i.test(message);
}

/** Salesforce's answer to a failed request, as a ConnectorError; `status` kept for callers. */
export class SalesforceApiError extends FatalError {
  constructor(
    code: string,
    message: string,
    readonly status: number,
    readonly errorCode: string,
  ) {
    super(code, message);
  }
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under the instance URL (/services/…) or an absolute URL on the instance's origin. */
  path: string;
  body?: unknown;
  /** True when sending it twice is harmless (reads, abort, delete). */
  repeatable: boolean;
  /** What this request is, for messages: "poll query job 750…". */
  what: string;
  accept?: string;
  /** Cancels the request (and its body) when aborted. */
  signal?: AbortSignal;
  /** Releases what this connector created in the org: uses the room held for it (budget.ts). */
  cleanup?: boolean;
  /** Creates something to release later: holds this many calls for its cleanup (budget.ts). */
  hold?: number;
}

export interface OpenResponse {
  status: number;
  headers: Headers;
  /** The body, decompressed; an idle wait over requestTimeoutMs or a cut connection throws TransportError. */
  chunks: AsyncGenerator<Uint8Array, void, undefined>;
}

export interface HttpDeps {
  auth: SessionProvider;
  budget: ApiBudget;
  logger: Logger;
  fetch: FetchFn;
  requestTimeoutMs: number;
  retryAttempts: number;
  retryInitialMs: number;
  random?: () => number;
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
const TIMEOUT = Symbol('timeout');

interface SfErrorBody {
  errorCode: string;
  message: string;
}

/** Reads Salesforce's error JSON (`[{errorCode, message}]`, `{errorCode, message}` or OAuth's
 *  `{error, error_description}`). */
export function parseErrorBody(text: string): SfErrorBody {
  try {
    const parsed: unknown = JSON.parse(text);
    const first = (Array.isArray(parsed) ? parsed[0] : parsed) as Record<string, unknown> | undefined;
    if (first && typeof first === 'object') {
      const errorCode = String(first.errorCode ?? first.error ?? '');
      const message = String(first.message ?? first.error_description ?? '');
      if (errorCode || message) return { errorCode, message };
    }
  } catch {
    /* not JSON: fall through */
  }
  return { errorCode: '', message: text.replace(/\s+/g, ' ').trim().slice(0, 200) };
}

/** The classification table for an HTTP error response other than the first 401. */
export function classifyResponse(status: number, body: SfErrorBody, what: string): ConnectorError {
  const sf = body.errorCode ? `${body.errorCode}: ${body.message}` : body.message || '(no error body)';
  if (status === 403 && body.errorCode === 'REQUEST_LIMIT_EXCEEDED' && isConcurrencyLimit(body.message)) {
    return new RefusedError(
      'SALESFORCE_CONCURRENCY_LIMIT',
      `Salesforce refused ${what}: ${sf}. Too many long-running requests are running in the org right now; retrying`,
    );
  }
  if (status === 403 && body.errorCode === 'REQUEST_LIMIT_EXCEEDED') {
    return new SalesforceApiError(
      'SALESFORCE_REQUEST_LIMIT_EXCEEDED',
      `Salesforce refused ${what}: ${sf}. The org's API request limit (rolling 24 h) is used up, or ` +
        'too many long requests are running. This run stops incomplete (no deletions, no watermark move) ' +
        'and the next scheduled run resumes; lower apiBudgetShare or the schedule frequency, or ask ' +
        'Salesforce for a higher limit.',
      status,
      body.errorCode,
    );
  }
  if (status >= 500 || status === 429) {
    return new RetriableError('SALESFORCE_SERVER_ERROR', `Salesforce answered HTTP ${status} to ${what}: ${sf}`);
  }
  if (status === 401) {
    return new SalesforceApiError(
      'SALESFORCE_SESSION_INVALID',
      `Salesforce rejected the session for ${what} even after re-authenticating: ${sf}`,
      status,
      body.errorCode,
    );
  }
  const code = body.errorCode
    ? `SALESFORCE_${body.errorCode.replace(/[^A-Z0-9_]/gi, '_').toUpperCase()}`
    : `SALESFORCE_HTTP_${status}`;
  return new SalesforceApiError(code, `Salesforce refused ${what} (HTTP ${status}): ${sf}`, status, body.errorCode);
}

export class SalesforceHttp {
  constructor(private readonly deps: HttpDeps) {}

  /** Gives back calls held for a cleanup that did not need them (budget.ts). */
  unhold(calls: number): void {
    this.deps.budget.unhold(calls);
  }

  /** Sends a request and returns its parsed JSON body (undefined for 204). */
  async json<T>(spec: RequestSpec): Promise<T> {
    return this.withRetries(spec, async () => {
      const res = await this.open({ ...spec, accept: 'application/json' });
      const text = await readAll(res.chunks);
      if (res.status === 204 || text.trim() === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new FatalError(
          'SALESFORCE_BAD_RESPONSE',
          `Salesforce answered ${spec.what} with a body that is not JSON`,
        );
      }
    });
  }

  /** Sends a request (retried as the table says) and returns the open response for streaming. */
  stream(spec: RequestSpec): Promise<OpenResponse> {
    return this.withRetries(spec, () => this.open(spec));
  }

  private withRetries<T>(spec: RequestSpec, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, {
      attempts: this.deps.retryAttempts,
      initialDelayMs: this.deps.retryInitialMs,
      random: this.deps.random,
      retryOn: (err) =>
        isRetriable(err) &&
        (spec.repeatable || err instanceof RefusedError || (err instanceof TransportError && err.notSent)),
      onRetry: (err, attempt, delayMs) =>
        this.deps.logger.warn('Salesforce request failed, retrying', {
          request: spec.what,
          attempt,
          delayMs,
          error: (err as Error).message,
        }),
    }).catch((err: unknown) => {
      // A non-repeatable request that failed in a retriable way: say why it was not repeated.
      if (
        isRetriable(err) &&
        !spec.repeatable &&
        !(err instanceof RefusedError) &&
        !(err instanceof TransportError && err.notSent)
      ) {
        throw new RetriableError(
          (err as ConnectorError).code,
          `${(err as Error).message} (not repeated: ${spec.what} is not safe to send twice; the run ` +
            `fails and the next run starts over)`,
          { cause: err },
        );
      }
      throw err;
    });
  }

  /** One attempt, with one re-authentication on 401. */
  private async open(spec: RequestSpec): Promise<OpenResponse> {
    let session = await this.deps.auth.session();
    for (let reauthenticated = false; ; reauthenticated = true) {
      const res = await this.send(spec, session);
      if (res.status >= 200 && res.status < 300) return res;
      const body = parseErrorBody(await readAll(res.chunks, 64 * 1024));
      if (res.status === 401 && !reauthenticated) {
        this.deps.logger.info('Salesforce session rejected; re-authenticating once', {
          request: spec.what,
          errorCode: body.errorCode,
        });
        session = await this.deps.auth.refresh(session);
        continue;
      }
      const err = classifyResponse(res.status, body, spec.what);
      err.message = scrub(err.message, this.deps.auth.secrets());
      throw err;
    }
  }

  private url(path: string, session: Session): string {
    if (path.startsWith('/')) return session.instanceUrl + path;
    const url = new URL(path);
    // Never send the access token to another host, whatever a response body said.
    if (url.origin !== session.instanceUrl) {
      throw new FatalError('SALESFORCE_BAD_RESPONSE', `Refusing to follow a URL outside the instance (${url.origin})`);
    }
    return url.toString();
  }

  private async send(spec: RequestSpec, session: Session): Promise<OpenResponse> {
    const url = this.url(spec.path, session);
    if (spec.signal?.aborted) throw new FatalError('EXTRACTION_CANCELLED', `${spec.what}: cancelled`);
    // may throw: before anything needs cleaning up
    this.deps.budget.acquire(spec.what, { cleanup: spec.cleanup, hold: spec.hold });
    const controller = new AbortController();
    const onCancel = () => controller.abort();
    spec.signal?.addEventListener('abort', onCancel, { once: true });
    const detach = () => spec.signal?.removeEventListener('abort', onCancel);
    const timer = setTimeout(() => controller.abort(TIMEOUT), this.deps.requestTimeoutMs);
    let res: Response;
    try {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${session.accessToken}`,
        Accept: spec.accept ?? 'application/json',
        'Accept-Encoding': 'gzip',
      };
      if (spec.body !== undefined) headers['Content-Type'] = 'application/json; charset=UTF-8';
      res = await this.deps.fetch(url, {
        method: spec.method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal: controller.signal,
      });
    } catch (err) {
      detach();
      throw this.transportError(err, spec.what, controller.signal, false);
    } finally {
      clearTimeout(timer);
      this.deps.budget.release();
    }
    this.deps.budget.observe(res.headers.get('sforce-limit-info'));
    this.deps.logger.debug('Salesforce response', { request: spec.what, status: res.status });
    return { status: res.status, headers: res.headers, chunks: this.body(res, controller, spec.what, detach) };
  }

  private async *body(
    res: Response,
    controller: AbortController,
    what: string,
    detach: () => void,
  ): AsyncGenerator<Uint8Array, void, undefined> {
    let finished = false;
    try {
      if (!res.body) return;
      const reader = res.body.getReader();
      // a gzip body that keepGzip (raw-gzip.ts) kept from fetch's decoder: inflated here, in large pieces
      // (made here: every path past this point closes it)
      const inflater = res.headers.get(RAW_ENCODING_HEADER) === 'gzip' ? new Inflater() : null;
      // Node 20's fetch does not always error a gzip-decoded body when its request is aborted;
      // cancelling the reader ends a pending read, and the check below turns that into an error.
      const onAbort = () => void reader.cancel().catch(() => undefined);
      controller.signal.addEventListener('abort', onAbort, { once: true });
      try {
        for (;;) {
          const timer = setTimeout(() => controller.abort(TIMEOUT), this.deps.requestTimeoutMs);
          let r: Awaited<ReturnType<typeof reader.read>>;
          try {
            r = await reader.read();
            if (controller.signal.aborted) throw new Error('aborted');
          } catch (err) {
            throw this.transportError(err, what, controller.signal, true);
          } finally {
            clearTimeout(timer);
          }
          if (r.done) {
            if (inflater) yield* this.inflate(inflater.end(), what);
            finished = true;
            return;
          }
          if (inflater) yield* this.inflate(inflater.push(r.value), what);
          else yield r.value;
        }
      } finally {
        inflater?.close();
        controller.signal.removeEventListener('abort', onAbort);
        if (!finished) {
          // Stopped early (error, or the consumer left): free the connection.
          controller.abort();
          reader.cancel().catch(() => undefined);
        }
      }
    } finally {
      detach();
    }
  }

  /** zlib's answer for a piece of a kept gzip body; a damaged body is a retriable transport error. */
  private async *inflate(
    out: AsyncGenerator<Buffer, void, undefined>,
    what: string,
  ): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      let r: IteratorResult<Buffer, void>;
      try {
        r = await out.next();
      } catch (err) {
        const detail = [(err as { code?: string }).code, (err as Error).message].filter(Boolean).join(' ');
        throw new TransportError(
          'SALESFORCE_NETWORK',
          `${what}: Salesforce's gzip'd response is damaged (${detail})`,
          false,
          { cause: err },
        );
      }
      if (r.done) return;
      yield r.value;
    }
  }

  private transportError(err: unknown, what: string, signal: AbortSignal, midBody: boolean): Error {
    if (err instanceof ConnectorError) return err;
    if (signal.aborted) {
      if (signal.reason === TIMEOUT) {
        return new TransportError(
          'SALESFORCE_TIMEOUT',
          `${what}: no ${midBody ? 'data' : 'response'} from Salesforce within ${this.deps.requestTimeoutMs} ms`,
          false,
        );
      }
      return new FatalError('EXTRACTION_CANCELLED', `${what}: cancelled`);
    }
    const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
    const code = cause?.code ?? (err as { code?: string })?.code;
    const isNetwork = err instanceof TypeError || typeof code === 'string';
    if (!isNetwork && !midBody) return err as Error; // a programmer error: never retried
    const detail = scrub(
      [code, cause?.message ?? (err as Error)?.message].filter(Boolean).join(' '),
      this.deps.auth.secrets(),
    );
    return new TransportError(
      'SALESFORCE_NETWORK',
      `${what}: connection to Salesforce failed${midBody ? ' in the middle of the response' : ''} (${detail})`,
      !midBody && typeof code === 'string' && NOT_SENT_CODES.has(code),
      { cause: err },
    );
  }
}

async function readAll(chunks: AsyncIterable<Uint8Array>, limit = Infinity): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of chunks) {
    if (size < limit) parts.push(Buffer.from(c));
    size += c.length;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** `/services/data/vNN.0` + rest. */
export function dataPath(apiVersion: string, rest: string): string {
  return `/services/data/v${apiVersion}${rest}`;
}
