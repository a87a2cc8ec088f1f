/**
 * One error family for the whole connector. Every failure that crosses a module boundary is a
 * ConnectorError, and its class says what happens next:
 *  - FatalError: stop the run; retrying cannot help (bad credentials, bad config, 4xx).
 *  - RetriableError: a passing fault (network, 5xx, lost DB connection); retry with backoff.
 *  - RecordError: this one record is bad; send it to the dead-letter path and keep going.
 * Messages never contain secrets: callers pass values through `redact` (logger.ts) first.
 */
export class ConnectorError extends Error {
  /** Stable machine-readable code, e.g. SALESFORCE_INVALID_GRANT, CONFIG_INVALID. */
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? false;
  }
}

export class FatalError extends ConnectorError {
  constructor(code: string, message: string, opts: { cause?: unknown } = {}) {
    super(code, message, { ...opts, retriable: false });
  }
}

export class RetriableError extends ConnectorError {
  constructor(code: string, message: string, opts: { cause?: unknown } = {}) {
    super(code, message, { ...opts, retriable: true });
  }
}

/** A single record that cannot be converted or written. Carries what the dead-letter topic needs. */
export class RecordError extends ConnectorError {
  readonly field?: string;
  readonly value?: string;

  constructor(message: string, opts: { field?: string; value?: string; cause?: unknown; code?: string } = {}) {
    super(opts.code ?? 'RECORD_INVALID', message, { cause: opts.cause, retriable: false });
    this.field = opts.field;
    this.value = opts.value;
  }
}

/** Programmer errors (TypeError, RangeError, …) are never retried. */
export function isRetriable(err: unknown): boolean {
  return err instanceof ConnectorError && err.retriable;
}
