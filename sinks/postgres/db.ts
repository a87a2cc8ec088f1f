import type { Pool, PoolClient } from 'pg';
import { classifyDbError } from './classify';

/**
 * Runs `fn` on a pooled connection. While checked out, a client has no 'error' listener of the
 * pool's, and a server restart would then crash the process with an unhandled 'error' event:
 * this adds one for the duration. Any failure is classified (classify.ts) and the connection is
 * discarded rather than returned to the pool, since it may be broken or mid-transaction.
 */
export async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  listenFromConnect(pool);
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw classifyDbError(err);
  }
  const ignore = () => undefined; // the failing query rejects too, and that is where it is handled
  client.on('error', ignore);
  let failed = false;
  try {
    return await fn(client);
  } catch (err) {
    failed = true;
    throw classifyDbError(err);
  } finally {
    client.off('error', ignore);
    client.release(failed);
  }
}

/** Pools whose clients get an 'error' listener as they connect (listenFromConnect). */
const listening = new WeakSet<Pool>();
const standing = () => undefined;

/**
 * Every client the pool connects from now on has an 'error' listener of its own for its whole life.
 * A new client is handed over from inside the parser's loop (its ReadyForQuery), and a server
 * message in the same chunk (a FATAL: the session terminated at once) was emitted before withClient
 * could add its listener: an unhandled 'error' ended the process (live-load-rev-s14.test.ts,
 * LIVE_REV_SEED=315440930, 1 run in 4; a client that had run no query, seen with pg instrumented).
 * The pool's own listener still removes an idle client that fails; a checked-out one fails its next
 * query, which withClient classifies.
 */
function listenFromConnect(pool: Pool): void {
  if (listening.has(pool)) return;
  listening.add(pool);
  pool.on('connect', (client) => client.on('error', standing));
}

/** Runs `fn` inside BEGIN … COMMIT on `client`; rolls back (quietly) and rethrows on failure. */
export async function inTransaction<T>(client: PoolClient, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const out = await fn();
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
