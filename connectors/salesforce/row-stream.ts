/**
 * Turns a generator of row batches into what the pipeline consumes: an object-mode Readable of
 * rows (also async-iterable; highland wraps it directly) plus a `done` promise.
 *
 * `done` resolves with the generator's return value, i.e. only after the last page was read and
 * verified; it rejects with the very error the stream is destroyed with. Destroying the stream
 * early cancels the extraction (its requests are aborted and its jobs aborted and deleted) and,
 * once that is done, rejects `done` with EXTRACTION_CANCELLED.
 */
import { Readable } from 'node:stream';
import { FatalError } from '../../kernel/errors';
import type { Row } from './csv-page';

export interface Extraction<R> {
  /** Rows in Salesforce's order. Errors instead of ending when the extraction is not complete and verified. */
  rows: Readable;
  /**
   * The same rows a batch at a time, as the pages give them, for a reader that takes every row
   * itself (the Id snapshots: millions of rows a run). Read either `rows` or this, never both. It
   * ends when the extraction ends or fails, or is cancelled; only `done` says it is complete and
   * verified. Leaving it early cancels the extraction, as destroying `rows` does.
   */
  batches(): AsyncIterable<Row[]>;
  /** Settles once the extraction is over: resolves only for a complete, verified extraction. */
  done: Promise<R>;
  /** The main Bulk job's numberRecordsProcessed, once it is JobComplete (before its pages are read). */
  expectedRows?: () => number | undefined;
}

class RowStream<R> extends Readable {
  private pulling = false;
  /** Which reader took the rows: set by the first read, never cleared (rows or batches, never both). */
  private mode: 'rows' | 'batches' | undefined;

  constructor(
    private readonly gen: AsyncGenerator<Row[], R, undefined>,
    private readonly settle: { resolve(r: R): void; reject(e: unknown): void },
    private readonly cancel: () => void,
    private readonly cancelled: AbortSignal,
  ) {
    super({ objectMode: true, highWaterMark: 100 });
  }

  /**
   * The generator's batches without the stream's per-row push and read (bench/id-snapshot.ts: the
   * Id snapshot's rows from the page to the reader's function take ~3x less CPU). Settles `done`
   * as pull() does; a failed extraction is rethrown to the reader and rejects `done` with the same
   * error.
   */
  async *batches(): AsyncGenerator<Row[], void, undefined> {
    if (this.mode) throw readTwiceError(this.mode);
    this.mode = 'batches';
    // nobody listens to the stream in this mode: a destroy(err) (the run stopped) reaches the reader
    // through `done`, which _destroy rejects with it, never as an unhandled 'error' event
    this.on('error', () => undefined);
    let ended = false;
    try {
      for (;;) {
        const r = await this.gen.next();
        if (this.destroyed) return; // cancelled: _destroy settles `done`
        if (r.done) {
          ended = true;
          this.settle.resolve(r.value);
          return;
        }
        yield r.value;
      }
    } catch (err) {
      ended = true;
      if (this.destroyed) return;
      if (this.cancelled.aborted) {
        this.settle.reject(cancelledError());
        this.destroy();
        return;
      }
      this.settle.reject(err);
      this.destroy(); // settled already: _destroy only lets the generator clean up
      throw err;
    } finally {
      // the reader left early (a break, an error of its own): the extraction is cancelled
      if (!ended && !this.destroyed) this.destroy();
    }
  }

  override _read(): void {
    // rows after batches(): the batch reader has taken the generator; fail both loudly (done rejects)
    if (this.mode === 'batches') return void this.destroy(readTwiceError('batches'));
    this.mode = 'rows';
    if (!this.pulling) void this.pull();
  }

  private async pull(): Promise<void> {
    this.pulling = true;
    try {
      for (;;) {
        const r = await this.gen.next();
        if (this.destroyed) return;
        if (r.done) {
          this.settle.resolve(r.value);
          this.push(null);
          return;
        }
        let more = true;
        for (const row of r.value) more = this.push(row);
        if (!more) return;
      }
    } catch (err) {
      if (this.destroyed) return; // cancelled: _destroy settles `done`
      if (this.cancelled.aborted) {
        // close() was called: end the stream without an 'error' event nobody may be listening for.
        this.settle.reject(cancelledError());
        this.destroy();
        return;
      }
      this.settle.reject(err);
      this.destroy(err as Error);
    } finally {
      this.pulling = false;
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Leaving a for-await loop early destroys the stream with an AbortError (or nothing).
    const cancelled = !err || err.name === 'AbortError';
    const reason = cancelled ? cancelledError() : err;
    // Abort what is in flight, let the generator clean up (abort and delete its jobs), and only
    // then settle `done` (a no-op when it already settled), so awaiting it means "all tidied up".
    this.cancel();
    this.gen
      .return(undefined as R)
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.settle.reject(reason);
        cb(err);
      });
  }
}

function readTwiceError(first: 'rows' | 'batches'): FatalError {
  return new FatalError(
    'EXTRACTION_READ_TWICE',
    `this extraction's rows are already read through ${first === 'rows' ? 'its rows stream' : 'batches()'}: ` +
      'read either rows or batches(), never both (rows one reader took would never reach the other)',
  );
}

function cancelledError(): FatalError {
  return new FatalError(
    'EXTRACTION_CANCELLED',
    'the extraction was cancelled (rows stream closed, or close() called) before it finished; ' +
      'nothing is claimed complete',
  );
}

/** `controller` cancels the extraction's requests; destroying the stream aborts it, and so does close(). */
export function toExtraction<R>(gen: AsyncGenerator<Row[], R, undefined>, controller: AbortController): Extraction<R> {
  let settle!: { resolve(r: R): void; reject(e: unknown): void };
  const done = new Promise<R>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined); // whoever only reads `rows` sees the error there
  const rows = new RowStream(gen, settle, () => controller.abort(), controller.signal);
  return { rows, batches: () => rows.batches(), done };
}
