import _ from 'highland';
import type { Extraction } from '../connectors/salesforce';
import { FatalError, ConnectorError } from '../kernel/errors';
import { publishStream, type OutRecord, type PublisherOptions, type RecordWriter } from './kafka/publisher';

/**
 * Streams an extraction through `toRecord` into the writer (highland: extract → map → encode →
 * produce, with bounded records in flight), and waits for both the writes and the extraction's
 * verification. If publishing fails, the extraction is cancelled; if the extraction fails, the
 * stream errors and publishing stops.
 */
export async function drain<R>(
  ex: Extraction<R>,
  toRecord: (row: Record<string, string>) => OutRecord | null,
  writer: RecordWriter,
  publisher: PublisherOptions,
  signal: AbortSignal | undefined,
): Promise<[number, R]> {
  const onAbort = () => ex.rows.destroy(abortError(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const records = _<Record<string, string>>(ex.rows)
      .map(toRecord)
      .filter((r): r is OutRecord => r !== null);
    const published = publishStream(records, writer, publisher).catch((err: Error) => {
      ex.rows.destroy(err);
      throw err;
    });
    return await Promise.all([published, ex.done]);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
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
 * row, without the publishing pipeline's per-row cost. Rejects as `drain` does: when the extraction
 * is not complete and verified, or the run is stopped.
 */
export async function consume<R>(
  ex: Extraction<R>,
  onRow: (row: Record<string, string>) => void,
  signal: AbortSignal,
): Promise<R> {
  const onAbort = () => ex.rows.destroy(abortError(signal));
  signal.addEventListener('abort', onAbort, { once: true });
  let readerFailed = false;
  try {
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
    if (signal.aborted) throw abortError(signal);
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
    signal.removeEventListener('abort', onAbort);
  }
}
