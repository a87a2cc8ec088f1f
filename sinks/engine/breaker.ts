import { FatalError, isRetriable, type ConnectorError } from '../../kernel/errors';

/** What to check, per reason, in the circuit breaker's message. */
const FIX: Record<string, string> = {
  SCHEMA_NOT_FOUND:
    'Check registry.url (the registry must know the schema ids in the topics: ' +
    'register them again, e.g. with a connector run, after a registry lost its data).',
  REGISTRY_UNAVAILABLE: 'Check that the schema registry at registry.url is up and reachable.',
  DB_CONNECTION_LOST: 'Check that PostgreSQL at the database URL is up and reachable.',
  DB_BUSY:
    'Check PostgreSQL for long-running sessions holding locks on the sink tables (pg_stat_activity), ' +
    'or raise statement_timeout.',
  DEAD_LETTER_SEND_FAILED: 'Check the Kafka brokers and the dead-letter topic.',
};

/**
 * The sink's circuit breaker for one retried operation (opening the sink, writing a batch,
 * decoding): a passing failure is retried until `limit` failures in a row share one reason
 * (error code); then the operation stops with a FatalError saying what failed and what to check,
 * rather than waiting forever on something that needs a person. A failure for another reason
 * starts the count again.
 */
export class Breaker {
  private reason: string | undefined;
  private streak = 0;
  /** When the operation started (ms). */
  readonly since = Date.now();

  constructor(
    private readonly limit: number,
    /** What is retried, for the message (e.g. "writing a batch"). */
    private readonly what: string,
    /** Where, for the message (e.g. "on users[0]"), or empty. */
    private readonly where = '',
  ) {}

  /** withRetry's retryOn: counts the failure; true while it may be retried. */
  readonly retryOn = (err: unknown): boolean => {
    if (!isRetriable(err)) return false;
    const code = (err as ConnectorError).code;
    this.streak = code === this.reason ? this.streak + 1 : 1;
    this.reason = code;
    return this.streak < this.limit;
  };

  /** True once a failure was retried (the trouble is over when the operation then succeeds). */
  get troubled(): boolean {
    return this.reason !== undefined;
  }

  /** The error to throw for the operation's final failure: the breaker's FatalError when it opened. */
  final(err: unknown, aborted = false): unknown {
    if (!isRetriable(err) || this.streak < this.limit || aborted) return err;
    const place = this.where ? ` ${this.where}` : '';
    return new FatalError(
      'SINK_CIRCUIT_OPEN',
      `${this.what} failed ${this.streak} times in a row for the same reason ` +
        `(${this.reason}: ${(err as Error).message})${place} over ` +
        `${Math.round((Date.now() - this.since) / 1000)} s; the sink stops instead of skipping records. ` +
        (FIX[this.reason!] ?? 'Check the service named in the error, then start the sink again.'),
      { cause: err },
    );
  }
}
