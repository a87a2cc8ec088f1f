/**
 * The run's publishing path before drainBatches (sessions 1-14: highland, a record at a time), kept
 * as the oracle pipeline/drain.ts's drainBatches is tested against (drain-batches-s14.test.ts,
 * drain-batches-review-s14.test.ts): the same records in the same order, the same outcomes.
 */
import _ from 'highland';
import type { Extraction } from '../../connectors/salesforce';
import { abortError } from '../../pipeline/drain';
import {
  publishStream,
  type OutRecord,
  type PublisherOptions,
  type RecordWriter,
} from '../../pipeline/kafka/publisher';

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
