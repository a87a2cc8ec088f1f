import * as os from 'node:os';
import type { Kafka, Producer } from 'kafkajs';
import { FatalError } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import type { RunState } from '../run-state';
import { stateKeys } from '../run-state';
import type { RunFence } from './fence';
import { kafkaWriter, type RecordWriter } from './publisher';
import { readToEnd } from './read-to-end';

/** How the state topic's keys and values are encoded (Avro through the registry in production). */
export interface StateCodec {
  encodeKey(key: string): Buffer;
  decodeKey(key: Buffer): string;
  encodeValue(state: RunState): Buffer;
  /** May fetch the writer schema of a record written by another connector version. */
  decodeValue(value: Buffer): Promise<RunState>;
}

export interface StateSnapshot {
  /** The latest succeeded run: where the next run resumes. null before the first one. */
  committed: RunState | null;
  /** The latest run, whatever its outcome. */
  lastRun: RunState | null;
  /** The run lock's latest record (status running while held). */
  lock: RunState | null;
  /** The latest saved LoginHistory progress (its cursor is where the next run reads from). */
  logins?: RunState | null;
}

export interface LockOptions {
  /** A lock whose heartbeat is older than this is abandoned and can be taken (ms, default 60 s). */
  leaseMs: number;
  /** How often a run rewrites its lock (ms, default 15 s: four chances within a lease). */
  heartbeatMs: number;
  /** Clock, injectable for tests. */
  now: () => number;
  /** This host's name and whether a pid on it is alive: a dead holder on the same host is released at once. */
  host: string;
  isAlive: (pid: number) => boolean;
}

export const DEFAULT_LOCK: LockOptions = {
  leaseMs: 60_000,
  heartbeatMs: 15_000,
  now: Date.now,
  host: os.hostname(),
  isAlive: processAlive,
};

/**
 * Whether a process of this host that held the lock still runs. A process that exists but
 * belongs to another user (EPERM) is alive. Our own pid is not: the holder was an earlier
 * process with the same pid (in a container, node is PID 1 again after every restart), because
 * this process runs one run at a time and the lock record names another run.
 */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The connector's run state in the compacted state topic: what a run resumes from, the last run's
 * summary, and the run lock that keeps two runs of one connector from overlapping, on one host or
 * on several. Kafka is the only store, so a run on a new host resumes where the last one ended.
 */
export class StateStore {
  private readonly keys: ReturnType<typeof stateKeys>;
  private fence: RunFence | null = null;
  private released = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly connector: string,
    private readonly codec: StateCodec,
    private readonly lockOpts: LockOptions = DEFAULT_LOCK,
    private readonly logger?: Logger,
  ) {
    this.keys = stateKeys(connector);
  }

  /**
   * The latest state of this connector. One bad record must not stop every later run: a key that
   * does not decode is skipped with a warning, and a value that does not decode is reported and
   * the key's previous value is used instead (a compacted topic keeps few per key).
   */
  async load(): Promise<StateSnapshot & { ends: Map<number, bigint> }> {
    // raw values per key of this connector since its last tombstone, oldest first; decoded once read
    const raw = new Map<string, { value: Buffer; offset: string }[]>();
    const mine = new Set(Object.values(this.keys));
    const ends = await readToEnd(this.kafka, this.topic, (m) => {
      const key = this.key(m.key, m.offset);
      if (key === undefined || !mine.has(key)) return;
      if (m.value === null) raw.delete(key);
      else if (key === this.keys.lock)
        raw.set(key, [{ value: m.value, offset: m.offset }]); // only the latest heartbeat matters
      else raw.set(key, [...(raw.get(key) ?? []), { value: m.value, offset: m.offset }].slice(-8));
    });
    const decode = async (key: string): Promise<RunState | null> => {
      const values = raw.get(key) ?? [];
      for (let i = values.length - 1; i >= 0; i--) {
        const state = await this.value(values[i].value, key, values[i].offset);
        if (state) return state;
      }
      return null;
    };
    return {
      committed: await decode(this.keys.committed),
      lastRun: await decode(this.keys.lastRun),
      lock: await decode(this.keys.lock),
      logins: await decode(this.keys.logins),
      ends,
    };
  }

  private key(key: Buffer | null, offset: string): string | undefined {
    if (!key) return undefined;
    try {
      return this.codec.decodeKey(key);
    } catch (err) {
      this.logger?.warn('skipped a state-topic record whose key does not decode', {
        topic: this.topic,
        offset,
        error: (err as Error).message,
      });
      return undefined;
    }
  }

  private async value(value: Buffer, key: string, offset: string): Promise<RunState | null> {
    try {
      return await this.codec.decodeValue(value);
    } catch (err) {
      this.logger?.warn('skipped a state-topic value that does not decode; using the one before it', {
        topic: this.topic,
        key,
        offset,
        error: (err as Error).message,
      });
      return null;
    }
  }

  /**
   * Takes the run lock, or throws RUN_IN_PROGRESS naming the holder. Two runs racing for it both
   * append a lock record; the first one in the topic's order wins and the other backs off, so at
   * most one run proceeds. Returns the state snapshot read while locking.
   */
  async acquire(me: RunState): Promise<StateSnapshot> {
    const snap = await this.load();
    this.refuseIfHeld(snap.lock, me.runId);
    await this.send(this.keys.lock, this.lockRecord(me));
    // Read what was appended since the snapshot: the first fresh lock record there wins.
    const appended: { value: Buffer; offset: string }[] = [];
    await readToEnd(
      this.kafka,
      this.topic,
      (m) => {
        if (m.value && this.key(m.key, m.offset) === this.keys.lock)
          appended.push({ value: m.value, offset: m.offset });
      },
      snap.ends,
    );
    for (const { value, offset } of appended) {
      const rec = await this.value(value, this.keys.lock, offset);
      if (!rec || rec.status !== 'running') continue;
      if (rec.runId !== me.runId) throw this.inProgress(rec);
      break;
    }
    return snap;
  }

  /**
   * From now on every write of this run goes through the broker's fence (one transaction each):
   * once another run took over, none of them lands. Call right after acquire().
   */
  useFence(fence: RunFence): void {
    this.fence = fence;
  }

  /** Tells other runs this one is alive; call more often than leaseMs. */
  heartbeat(me: RunState): Promise<void> {
    return this.send(this.keys.lock, this.lockRecord(me));
  }

  /** Releases the lock (a tombstone on its key); a no-op once the commit released it. */
  async release(): Promise<void> {
    if (this.released) return;
    await this.send(this.keys.lock, null);
    this.released = true;
  }

  /** Saves the LoginHistory progress of a run whose login events and users are all published. */
  async saveProgress(state: RunState): Promise<void> {
    await this.send(this.keys.logins, state);
  }

  /**
   * Commits a succeeded run: the next run resumes from its watermark. With a fence, `before` (the
   * tombstones) and the state records, lock release included, are one transaction: all visible or
   * none, and none from a fenced run.
   */
  async commit(state: RunState, before?: (writer: RecordWriter) => Promise<unknown>): Promise<void> {
    // the recent login Ids once: the last-run record is a summary, nothing resumes from it
    const entries: [string, RunState | null][] = [
      [this.keys.committed, state],
      [this.keys.lastRun, { ...state, loginHistoryRecentIds: [], loginHistoryRecentIdsPacked: null }],
    ];
    if (!this.fence) {
      if (before) await before(kafkaWriter(this.producer, { compression: 'none' }));
      await this.sendMany(entries);
      return;
    }
    await this.fence.transaction(async (tx) => {
      if (before) await before(tx.writer);
      await tx.send(this.topic, this.messages([...entries, [this.keys.lock, null]]));
    });
    this.released = true;
  }

  /**
   * Re-binds the connector to `orgId` (the reset command): under the run lock, the committed state
   * becomes a fresh one for that org (no LoginHistory watermark: the next run starts with the
   * look-back window). Users published for another org are then neither updated nor deleted.
   */
  async rebind(me: RunState, orgId: string, fenceAfterLock?: () => Promise<RunFence>): Promise<void> {
    await this.acquire(me);
    let fence: RunFence | null = null;
    try {
      // Fence every earlier holder (a run whose lease ran out but which still lives) before the
      // state changes under it, as a run does: it can then commit nothing over the reset.
      if (fenceAfterLock) this.useFence((fence = await fenceAfterLock()));
      const now = this.lockOpts.now();
      const state: RunState = {
        ...me,
        status: 'succeeded',
        endedAt: now,
        orgId,
        message: `reset: bound to Salesforce org ${orgId}`,
      };
      await this.sendMany([
        [this.keys.committed, state],
        [this.keys.lastRun, state],
        [this.keys.logins, null],
      ]);
    } finally {
      await this.release();
      await fence?.close().catch(() => undefined);
    }
  }

  /** Records a failed run's summary; the committed state (and its watermark) stays as it was. */
  recordFailure(state: RunState): Promise<void> {
    return this.send(this.keys.lastRun, { ...state, loginHistoryRecentIds: [], loginHistoryRecentIdsPacked: null });
  }

  private refuseIfHeld(lock: RunState | null, myRunId: string): void {
    if (!lock || lock.status !== 'running' || lock.runId === myRunId) return;
    const { now, leaseMs, host, isAlive } = this.lockOpts;
    const fresh = (lock.heartbeatAt ?? lock.startedAt) > now() - leaseMs;
    const holderDead = lock.host === host && lock.pid !== null && !isAlive(lock.pid);
    if (fresh && !holderDead) throw this.inProgress(lock);
  }

  private inProgress(lock: RunState): FatalError {
    return new FatalError(
      'RUN_IN_PROGRESS',
      `Connector "${this.connector}" is already running (run ${lock.runId} on ${lock.host ?? 'an unknown host'}` +
        `${lock.pid ? `, pid ${lock.pid}` : ''}, started ${new Date(lock.startedAt).toISOString()}). ` +
        'Runs never overlap: this one did not start. ' +
        `If that run died, its lock expires ${Math.round(this.lockOpts.leaseMs / 1000)} s after its last heartbeat.`,
    );
  }

  private lockRecord(me: RunState): RunState {
    return { ...me, status: 'running', host: this.lockOpts.host, pid: process.pid, heartbeatAt: this.lockOpts.now() };
  }

  private send(key: string, value: RunState | null): Promise<void> {
    return this.sendMany([[key, value]]);
  }

  private async sendMany(entries: [string, RunState | null][]): Promise<void> {
    if (this.fence) {
      await this.fence.transaction((tx) => tx.send(this.topic, this.messages(entries)));
      return;
    }
    await this.producer.send({ topic: this.topic, acks: -1, messages: this.messages(entries) });
  }

  private messages(entries: [string, RunState | null][]): { key: Buffer; value: Buffer | null }[] {
    return entries.map(([key, value]) => ({
      key: this.codec.encodeKey(key),
      value: value === null ? null : this.codec.encodeValue(value),
    }));
  }
}
