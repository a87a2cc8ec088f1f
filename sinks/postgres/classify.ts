import { ConnectorError, FatalError, RecordError, RetriableError } from '../../kernel/errors';

/**
 * The one table of what a PostgreSQL failure means for the sink:
 *
 * | failure                                                   | class          | next step                       |
 * |-----------------------------------------------------------|----------------|---------------------------------|
 * | SQLSTATE 08xxx (connection exception)                     | RetriableError | retry the batch with backoff    |
 * | 40001 serialization failure, 40P01 deadlock (class 40)    | RetriableError | retry the batch                 |
 * | 57P01/57P02/57P03 (server shutting down / starting up)    | RetriableError | retry: the server is restarting |
 * | 53xxx (out of connections, memory, disk), 55P03 lock busy | RetriableError | retry                           |
 * | 57014 statement timeout (a lock held elsewhere, a stall)  | RetriableError | retry from the stored offsets   |
 * | socket errors, "Connection terminated", pool timeouts     | RetriableError | retry                           |
 * | 22xxx (bad data: NUL byte, out-of-range timestamp, …)     | RecordError    | find the record, dead-letter it |
 * | 23xxx (integrity: empty id, …)                            | RecordError    | find the record, dead-letter it |
 * | 28xxx (authentication), 3D000 (no such database)          | FatalError     | stop: configuration is wrong    |
 * | anything else (42xxx undefined table/column, …)           | FatalError     | stop: needs a person            |
 *
 * A RecordError's code is DB_DATA_INVALID (22) or DB_CONSTRAINT_VIOLATION (23); the SQLSTATE is
 * kept in `sqlstateOf(err)` for the dead-letter headers.
 */
export function classifyDbError(err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const state = sqlstateOf(err);
  const message = `PostgreSQL: ${(err as Error)?.message ?? String(err)}`;
  if (state) {
    const cls = state.slice(0, 2);
    if (cls === '22') return withState(new RecordError(message, { code: 'DB_DATA_INVALID', cause: err }), state);
    if (cls === '23')
      return withState(new RecordError(message, { code: 'DB_CONSTRAINT_VIOLATION', cause: err }), state);
    if (cls === '08') return new RetriableError('DB_CONNECTION_LOST', message, { cause: err });
    if (cls === '40') return new RetriableError('DB_SERIALIZATION_FAILURE', message, { cause: err });
    if (state === '57P01' || state === '57P02' || state === '57P03')
      return new RetriableError('DB_RESTARTING', message, { cause: err });
    if (cls === '53' || state === '55P03') return new RetriableError('DB_BUSY', message, { cause: err });
    // Only the sink's own statement_timeout cancels its statements (57014 is also an
    // operator's pg_cancel_backend: retrying that is right too).
    if (state === '57014') return new RetriableError('DB_STATEMENT_TIMEOUT', message, { cause: err });
    if (cls === '28') return new FatalError('DB_AUTH_FAILED', message, { cause: err });
    if (state === '3D000') return new FatalError('DB_NOT_FOUND', message, { cause: err });
    return new FatalError('DB_ERROR', `${message} (SQLSTATE ${state})`, { cause: err });
  }
  if (isConnectionFailure(err)) return new RetriableError('DB_CONNECTION_LOST', message, { cause: err });
  return new FatalError('DB_ERROR', message, { cause: err });
}

/** True for a RecordError the database raised (bad data in one record of the batch). */
export function isDataError(err: unknown): boolean {
  return err instanceof RecordError && (err.code === 'DB_DATA_INVALID' || err.code === 'DB_CONSTRAINT_VIOLATION');
}

const STATE = Symbol('sqlstate');

function withState<T extends ConnectorError>(err: T, state: string): T {
  (err as unknown as Record<symbol, string>)[STATE] = state;
  return err;
}

/** The SQLSTATE of a pg error, or of the pg error a classified error wraps. */
export function sqlstateOf(err: unknown): string | undefined {
  const own = (err as Record<symbol, string> | null)?.[STATE];
  if (own) return own;
  const code = (err as { code?: unknown } | null)?.code;
  // pg's DatabaseError carries a 5-character SQLSTATE; Node's socket errors use E-names.
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('E') ? code : undefined;
}

const NODE_NET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);
const PG_CLIENT_GONE = new RegExp(
  [
    'Connection terminated',
    'connection error',
    'not queryable',
    'timeout exceeded when trying to connect',
    'Query read timeout',
    'server closed the connection',
  ].join('|'),
  'i',
);

function isConnectionFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NODE_NET.has(code)) return true;
  const errors = (err as { errors?: unknown[] } | null)?.errors; // AggregateError from dual-stack connects
  if (Array.isArray(errors) && errors.some(isConnectionFailure)) return true;
  return err instanceof Error && PG_CLIENT_GONE.test(err.message);
}
