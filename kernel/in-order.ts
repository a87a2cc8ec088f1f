/**
 * Operations run one at a time, in the order they were given: each starts once the one before it has
 * settled, whether it succeeded or failed. The fence's transactions, a transaction's sends and a
 * serial producer's sends (kafka/serial-producer.ts) queue here.
 */
export class InOrder {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const run = this.tail.then(op);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Settles once every operation given so far has settled. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
