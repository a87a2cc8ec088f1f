import type { Extraction } from '../connectors/salesforce';
import { FatalError, ConnectorError } from '../kernel/errors';
import type { OutRecord, PublisherOptions, RecordWriter } from './kafka/publisher';

/**
 * Streams an extraction through `toRecord` into the writer, a page's rows at a time, and waits for
 * both the writes and the extraction's verification. Every phase of a run publishes through it: the
 * users, the login events and the declared streams. Without highland: a highland value, an
 * object-mode stream push and read and a filter step a record cost a login event's path 12.8 -> 11.0 µs
 * in one process (median of 8 rounds, docs/performance-s14-logins.md), and a user record's
 * 0.94 -> 0.32 µs (docs/performance-s15-conn.md). The records reach the writer in order, in batches
 * of `batchSize` (a partial one after `lingerMs` without more rows, and the last), with at most
 * `maxInFlight` writes outstanding: the next page is read only when a write slot is free, so a slow
 * broker slows the source. A failed write cancels the extraction and rejects with the write's
 * error; a failed extraction stops the writes and rejects with its error; `toRecord` throwing
 * cancels the extraction and rejects with what it threw. In these cases the writes already started
 * are waited for before it rejects, so nothing is written after. A stop rejects with `abortError`
 * at once: no write starts after it, and one outstanding (a broker that does not answer) is not
 * waited for, so a stopped run ends within the process's grace period. The highland path it
 * replaced is its tests' oracle (test/support/drain-oracle.ts): the same records, order and outcomes.
 */
export async function drainBatches<R>(
  ex: Extraction<R>,
  toRecord: (row: Record<string, string>) => OutRecord | null,
  writer: RecordWriter,
  publisher: PublisherOptions,
  signal: AbortSignal | undefined,
): Promise<[number, R]> {
  let stopped: () => void = () => undefined;
  const stop = new Promise<void>((resolve) => (stopped = resolve));
  const detach = cancelOnStop(ex, signal, () => stopped());
  const isStopped = () => signal?.aborted === true;
  // a stop rejects without waiting for the extraction; its own failure (the stop) is observed here
  ex.done.catch(() => undefined);
  const { batchSize, maxInFlight, lingerMs } = publisher;
  const inFlight = new Set<Promise<void>>();
  let written = 0;
  let writeFailed = null as { error: unknown } | null;
  let readerFailed = null as { error: unknown } | null;
  let pending: OutRecord[] = [];
  const send = async (batch: OutRecord[]): Promise<void> => {
    // a free slot, or the stop: a broker that does not answer must not hold a stopped run
    while (inFlight.size >= maxInFlight && writeFailed === null && !isStopped())
      await Promise.race([...inFlight, stop]);
    if (writeFailed !== null || isStopped()) return;
    const w: Promise<void> = writer.write(batch).then(
      () => {
        written += batch.length;
        inFlight.delete(w);
      },
      (error: unknown) => {
        writeFailed ??= { error };
        inFlight.delete(w);
      },
    );
    inFlight.add(w);
  };
  const pages = ex.batches()[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (isStopped()) break; // no page read after a stop
      let next = pages.next();
      if (pending.length > 0) {
        // a partial batch waits at most lingerMs for more rows, as batchWithTimeOrCount's did
        let timer: NodeJS.Timeout | undefined;
        const lingered = new Promise<null>((resolve) => (timer = setTimeout(resolve, lingerMs, null)));
        const first = await Promise.race([next, lingered]).finally(() => clearTimeout(timer));
        if (first === null) {
          const batch = pending;
          pending = [];
          await send(batch);
        } else next = Promise.resolve(first);
      }
      const r = await next;
      if (r.done) break;
      try {
        for (const row of r.value) {
          if (isStopped()) break; // nothing more after a stop (as the highland path: its stream ended there)
          const rec = toRecord(row);
          if (rec === null) continue;
          pending.push(rec);
          if (pending.length >= batchSize) {
            const batch = pending;
            pending = [];
            await send(batch);
          }
        }
      } catch (error) {
        readerFailed = { error };
      }
      if (readerFailed !== null || writeFailed !== null || isStopped()) break;
    }
    if (isStopped()) throw abortError(signal!);
    // the last partial batch, unless the extraction was cancelled or stopped (its pages end early then)
    if (readerFailed === null && writeFailed === null && !ex.rows.destroyed && pending.length > 0) await send(pending);
    pending = [];
    // a write or the reader failed: leaving the pages cancels the extraction (its jobs tidied up)
    if (readerFailed !== null || writeFailed !== null) await pages.return?.();
    await Promise.all(inFlight);
    const failed = writeFailed ?? readerFailed;
    if (failed !== null) {
      await ex.done.catch(() => undefined);
      throw failed.error;
    }
    return [written, await ex.done];
  } catch (err) {
    if (isStopped()) throw abortError(signal!);
    await Promise.all(inFlight);
    if (writeFailed !== null && err !== writeFailed.error) throw writeFailed.error;
    throw err;
  } finally {
    detach();
  }
}

/**
 * Cancels the extraction when the run stops, and at once when it stopped before this phase began
 * (during an await before it: the 'abort' event has fired already and never fires again). That
 * early cancel carries no error: nobody listens to the stream yet ('error' would be unhandled), and
 * the stop's error is the caller's to throw. Returns the listener's removal.
 */
function cancelOnStop(ex: Extraction<unknown>, signal: AbortSignal | undefined, onStop?: () => void): () => void {
  if (signal === undefined) return () => undefined;
  const onAbort = () => {
    ex.rows.destroy(abortError(signal));
    onStop?.();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) ex.rows.destroy();
  return () => signal.removeEventListener('abort', onAbort);
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

/** Why the run stopped: the fence's error when the broker fenced it, else an interruption. */
export function abortError(signal: AbortSignal): ConnectorError {
  if (signal.reason instanceof ConnectorError) return signal.reason;
  return new FatalError('RUN_INTERRUPTED', 'the run was interrupted (shutdown requested); nothing was deleted');
}

/**
 * Reads an extraction that publishes nothing (the Id snapshot: a million rows a run at scale) row by
 * row, without the publishing pipeline's per-row cost. Rejects as `drainBatches` does: when the extraction
 * is not complete and verified, or the run is stopped.
 */
export async function consume<R>(
  ex: Extraction<R>,
  onRow: (row: Record<string, string>) => void,
  signal: AbortSignal,
): Promise<R> {
  const detach = cancelOnStop(ex, signal);
  let readerFailed = false;
  try {
    throwIfAborted(signal); // stopped before it began: no page read
    // a batch at a time (the page's rows): no per-row stream push and read
    for await (const batch of ex.batches()) {
      try {
        for (const row of batch) onRow(row);
      } catch (err) {
        readerFailed = true;
        throw err;
      }
    }
    return await ex.done;
  } catch (err) {
    if (signal.aborted) {
      ex.done.catch(() => undefined); // the stop's own failure, observed: the stop is what to tell
      throw abortError(signal);
    }
    // the reader's own error: leaving the batches cancelled the extraction; once its jobs are
    // tidied up (`done` settled, EXTRACTION_CANCELLED), the reader's error is the one to tell
    if (readerFailed) {
      await ex.done.catch(() => undefined);
      throw err;
    }
    // the extraction's error (or the stop's): `done` says which, when it has settled
    throw await ex.done.then(
      () => err,
      (e: unknown) => e,
    );
  } finally {
    detach();
  }
}
