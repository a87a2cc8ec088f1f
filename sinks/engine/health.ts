import type { PartitionTrouble } from './processor';

/** One partition as the health report shows it. */
export interface PartitionHealth {
  topic: string;
  partition: number;
  /** Records in Kafka after the sink's stored offset (NaN when unknown). */
  lag: number;
  /** Why it is waiting, when it is (registry, database or dead-letter trouble). */
  trouble?: PartitionTrouble;
}

/**
 * What /health says. `ready` is false while the database is unreachable, while a partition
 * waits on a passing failure (registry, database, dead-letter topic), or while there is lag and
 * nothing was committed for `stallAfterMs`; `reasons` says which, in words.
 */
export interface SinkHealthReport {
  ready: boolean;
  reasons: string[];
  /** The sink's store (the database) answers. */
  databaseReachable: boolean;
  /** Milliseconds since the last batch committed (since the start when none has). */
  lastCommitAgeMs: number;
  partitions: PartitionHealth[];
}

/**
 * The sink's live state for the health report, fed by the processor (trouble) and the consumer
 * (commits). Pure bookkeeping: the database probe and the lag come from the caller (sink.ts).
 */
export class SinkHealthState {
  private readonly trouble = new Map<string, PartitionTrouble & { topic: string; partition: number }>();
  private lastCommitAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.lastCommitAt = now();
  }

  setTrouble(topic: string, partition: number, trouble: PartitionTrouble | undefined): void {
    const key = `${topic}:${partition}`;
    if (trouble) this.trouble.set(key, { ...trouble, topic, partition });
    else this.trouble.delete(key);
  }

  committed(): void {
    this.lastCommitAt = this.now();
  }

  report(input: {
    databaseReachable: boolean;
    lag: { topic: string; partition: number; lag: number }[];
    stallAfterMs: number;
  }): SinkHealthReport {
    const reasons: string[] = [];
    const lastCommitAgeMs = this.now() - this.lastCommitAt;
    if (!input.databaseReachable) reasons.push('the database is unreachable');
    for (const t of this.trouble.values()) {
      const seconds = Math.round((this.now() - t.since) / 1000);
      reasons.push(`${t.topic}[${t.partition}] waits: ${t.what} failed (${t.code}) for ${seconds} s`);
    }
    const lagging = input.lag.filter((p) => p.lag > 0).reduce((n, p) => n + p.lag, 0);
    if (lagging > 0 && lastCommitAgeMs > input.stallAfterMs) {
      reasons.push(`${lagging} records behind and nothing committed for ${Math.round(lastCommitAgeMs / 1000)} s`);
    }
    const partitions = input.lag.map((p) => ({ ...p, trouble: this.trouble.get(`${p.topic}:${p.partition}`) }));
    const { databaseReachable } = input;
    return { ready: reasons.length === 0, reasons, databaseReachable, lastCommitAgeMs, partitions };
  }
}
