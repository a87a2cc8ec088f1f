import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes, type Admin, type Kafka } from 'kafkajs';
import type { Logger } from '../../kernel/logger';
import { createTopicsReady } from '../../kafka/topics';
import { HEADERS } from '../../schemas/topics';
import { validFlags } from '../user-login-flags';
import { EntryLog } from './entry-log';
import type { RunFence } from './fence';
import { indexTopicOf, LiveIndex, usersRecordApplier } from './live-index';
import type { OutRecord, RecordWriter } from './publisher';
import { INDEX_TOMBSTONE_RETENTION_MS, readIndexTopic } from './index-read';
import { readToEnd, type ReadToEndOptions } from './read-to-end';

/**
 * The compact live index: a compacted side topic (`<users>.live-index`, one partition) that holds,
 * per user key of the users topic, only what a run needs to know about that user's latest record
 * (org, UserLogin flags, content hash, device), about 60 bytes instead of a ~1.3 KB value, and a
 * watermark: the users-topic offsets up to which the entries are complete.
 *
 * A run reads the index, then the users topic from the watermark to its end (the tail), and
 * applies the tail over the index exactly as a full read of the users topic would apply it. So
 * the result equals the full read (the latest record per key decides), and a routine run reads
 * the index plus what the last run wrote, not every value. Why it stays exact:
 *  - an entry is a projection of a users-topic record, kept only after that record was
 *    acknowledged (`writer`), so the index never claims what the users topic does not hold;
 *  - every entry a run writes (the keys its tail changed, `refresh`; the users it published; its
 *    tombstones) goes out in the run's commit transaction, through the fence, with the watermark
 *    (`entries`): a run that lost its lock (a zombie) writes no entry at all, so none can land
 *    late over the entries of the run that took over (the last entry of a key would then be
 *    older than its latest record, and the next run would carry an old device or flags, or see a
 *    deleted user as live). A run that fails before its commit writes none either: its watermark
 *    did not move, and the next run reads what it published in its tail;
 *  - with the run's fence (`useFence`), the entries kept so far are written in a transaction of
 *    that fence whenever `FLUSH_EVERY` are waiting, instead of all in the commit: a rebuild or a
 *    full run of 1M users would otherwise hold 1M entries until the commit and write them in ONE
 *    transaction (the broker aborts a transaction after 60 s). It keeps the promise above: a run
 *    that lost its lock is fenced at its next transaction, so it lands no entry after the run that
 *    took over opened the fence (which happens before that run reads the index); an entry that
 *    landed before is a projection of an acknowledged record, and a newer record of that key is
 *    either the new run's own (its entry comes later) or after the watermark (read in the tail).
 *    A run that fails after a flush leaves true entries and an unmoved watermark, as above;
 *  - the watermark is the users-topic end the run started from (or its end, see nextWatermark);
 *    everything after it is read again by the next run, whatever happened in between (a failed
 *    run, another writer);
 *  - no index, no watermark, a watermark of another topic, fewer partitions, or offsets the
 *    users topic no longer has (recreated) -> the index is rebuilt from the whole users topic
 *    (the first run after the upgrade does that once).
 *
 * Keys and values are plain UTF-8 (internal topic): key `<connector>\0<user key>`, value
 * `<org>\t<flags><hash>\t<device>` or null (not live); the watermark is key `<connector>\x01`
 * with JSON `{ "topic", "offsets": { partition: offset }, "id" }` (id: random, see watermarkRecord).
 */
export interface LoadedLive {
  live: LiveIndex;
  /** Where the live users came from: the index plus a tail, or a full read of the users topic. */
  source: 'index' | 'rebuild';
  tailRecords: number;
  /** The users-topic end offsets the live users reflect: the next watermark. */
  watermark: Map<number, bigint>;
  /** The index entries to write again now (keys the tail changed; everything after a rebuild). */
  refresh(): Iterable<OutRecord>;
}

const NO_FLAGS = '--';
/** Entries kept before they are written in a transaction of their own (with a fence): bounds the memory they hold. */
export const FLUSH_EVERY = 10_000;
/** Records per send inside such a transaction. */
const SEND_BATCH = 500;

/** A connector's watermark record's key in an index topic: its name, then \x01 (entries: \x00). */
function markKeyOf(connector: string): string {
  return `${connector}\u0001`;
}
/** The last byte of every watermark's key, whichever connector's. */
const MARK_END = 1;

export class LiveIndexTopic {
  readonly topic: string;
  /** Users-topic records written (and acknowledged) through `writer`. */
  private written = 0;
  /** The entries kept and not written yet, in order (off the heap): for a key, the last one wins. */
  private pending = new EntryLog();
  private fence: RunFence | null = null;
  /** The flush in progress (flushes are serialized), and whether the commit has begun (no more flushes). */
  private flushing: Promise<void> = Promise.resolve();
  private committing = false;
  /** Why a background flush failed (the run must fail: its entries did not land). */
  private failed: unknown = null;
  private flushEvery = FLUSH_EVERY;
  private checkpointDir: string | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly usersTopic: string,
    private readonly connector: string,
    /** Decodes a users-topic key (an Avro string in wire format) to the user Id. */
    private readonly decodeKey: (key: Buffer) => string,
    private readonly logger: Logger,
    /** What the keys are, for the log lines: a declared snapshot stream's name (its topic is
     *  `usersTopic` then, keyed the same way: one record per key, the latest wins); default users. */
    private readonly what = 'users',
  ) {
    this.topic = indexTopicOf(usersTopic);
  }

  /** Creates the index topic when it is missing (compacted, one partition, the users topic's replication). */
  async ensure(replicationFactor: number | undefined): Promise<void> {
    await this.withAdmin(async (admin) => {
      if ((await admin.listTopics()).includes(this.topic)) return;
      await createTopicsReady(admin, [
        {
          topic: this.topic,
          numPartitions: 1,
          // unset: the broker's default.replication.factor, as for the topics provisioned
          replicationFactor: replicationFactor ?? -1,
          // a week of tombstones: a checkpoint older than this is not used (index-read.ts `checkAge`);
          // Kafka's default, 24 h, would refuse a daily schedule's checkpoints
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'delete.retention.ms', value: String(INDEX_TOMBSTONE_RETENTION_MS) },
          ],
        },
      ]);
    });
  }

  /** The live users (as readLiveIndex gives them), from the index and the users topic's tail. */
  async load(orgId: string | null, opts: ReadToEndOptions = {}): Promise<LoadedLive> {
    let indexed = new LiveIndex();
    let mark: Watermark | null = null;
    const prefix = `${this.connector}\u0000`;
    const markKey = markKeyOf(this.connector);
    if (await this.exists()) {
      const read = await readIndexTopic({
        kafka: this.kafka,
        topic: this.topic,
        connector: this.connector,
        orgId,
        apply: (state, m) => {
          const key = m.key?.toString('utf8');
          if (key === markKey) state.mark = m.value ? parseMark(m.value.toString('utf8')) : null;
          else if (key?.startsWith(prefix)) {
            applyEntry(state.live, key.slice(prefix.length), m.value?.toString('utf8') ?? null, orgId);
          }
        },
        // any connector's watermark with its id (an index topic may be shared: the last record another's)
        unique: (m) => m.key?.[m.key.length - 1] === MARK_END && m.value !== null && markId(m.value) !== undefined,
        // every key of the index is one of its records: room for them at once (see PRESIZE_MAX)
        presize: () => this.recordCount(this.topic),
        tombstoneRetentionMs: () => this.tombstoneRetentionMs(),
        logger: this.logger,
        what: this.what,
        checkpointDir: this.checkpointDir,
        opts,
      });
      indexed = read.live;
      // a checkpoint's mark is JSON read back: held to the same shape as a mark read from the topic
      mark = read.mark === null ? null : parseMark(JSON.stringify(read.mark));
    }
    const ends = await this.withAdmin((admin) => admin.fetchTopicOffsets(this.usersTopic));
    const from = tailStart(mark, this.usersTopic, ends);
    const live = from ? indexed : new LiveIndex();
    if (!from) live.reserve(recordsIn(ends));
    const touched = new Set<string>();
    let tailRecords = 0;
    const onKey = (key: string) => {
      tailRecords++;
      if (from) touched.add(key);
    };
    const apply = usersRecordApplier(
      live,
      this.usersTopic,
      this.connector,
      this.decodeKey,
      this.logger,
      orgId,
      onKey,
      this.what,
    );
    const watermark = await readToEnd(this.kafka, this.usersTopic, apply.onMessage, from ?? undefined, opts);
    live.fit(); // the record counts were upper bounds (superseded records, tombstones, the watermark)
    const source = from ? 'index' : 'rebuild';
    const skipped = apply.skipped() ? { skipped: apply.skipped() } : {};
    const figures = { topic: this.usersTopic, index: this.topic, source, live: live.size, tailRecords, ...skipped };
    this.logger.info(`live ${this.what} loaded`, figures);
    const entry = (key: string) => this.entry(key, entryOf(live, key, orgId));
    const refresh = (): Iterable<OutRecord> => {
      if (from) return [...touched].map(entry);
      // after a rebuild: every live or foreign user, and a null for an entry no longer live
      const stale = [...indexed.keys(), ...indexed.foreignKeys()].filter(
        (k) => !live.has(k) && live.foreignOrg(k) === undefined,
      );
      return chain(map(live.keys(), entry), map(live.foreignKeys(), entry), stale.map(entry));
    };
    return { live, source, tailRecords, watermark, refresh };
  }

  /**
   * Whether the users topic's end moved past `ends` (a load's watermark): a record written since,
   * by a writer no fence stops (a zombie run's plain producer, another connector on the topic).
   */
  async grownSince(ends: Map<number, bigint>): Promise<boolean> {
    const now = await this.withAdmin((admin) => admin.fetchTopicOffsets(this.usersTopic));
    return now.length !== ends.size || now.some((p) => ends.get(p.partition) !== BigInt(p.high));
  }

  /**
   * A writer that, after each batch is acknowledged, keeps the index entries of its users records
   * for the commit (`entries`). Not written now: this writer is not fenced, and an entry written
   * by a run that has lost its lock could land after the entries of the run that took over.
   */
  writer(inner: RecordWriter): RecordWriter {
    return {
      write: async (batch) => {
        await inner.write(batch);
        let n = 0;
        for (const r of batch) {
          if (r.topic !== this.usersTopic) continue;
          this.keepProjection(r);
          n++;
        }
        this.written += n;
        if (this.failed) throw this.failed;
        if (this.flushDue) await this.flush();
      },
    };
  }

  /**
   * Writes the entries kept so far in the run's fence, each batch in a transaction of its own, as
   * they accumulate (see the header). Call before `keep` and the users phase (`sync.ts`: right
   * after the index is created). Without it every entry waits for the commit transaction.
   */
  useFence(fence: RunFence, opts: { flushEvery?: number } = {}): void {
    this.fence = fence;
    this.flushEvery = opts.flushEvery ?? FLUSH_EVERY;
  }

  /**
   * Keeps a checkpoint of the index in `dir` (pipeline/kafka/index-checkpoint.ts): a load reads the
   * index topic from the last load's checkpoint on, instead of from its start, when it is still
   * true to the topic. A local cache: without it (or on another host) the load reads the topic.
   */
  useCheckpoints(dir: string | undefined): void {
    this.checkpointDir = dir;
  }

  /** Keeps entries (a load's `refresh`, materialised now) for the commit; a later one for a key replaces it. */
  keep(entries: Iterable<OutRecord>): void {
    for (const e of entries) this.pending.append(e.key, e.value);
    // with a fence, a rebuild's entries (every user) go out now, in the background, not in the
    // commit; a failure is thrown by the next write or by nextWatermark
    if (this.flushDue) {
      this.flush().catch((err: unknown) => (this.failed ??= err));
    }
  }

  /**
   * As `keep`, but with a fence, waits for a flush each time `flushEvery` entries are waiting, so
   * at most that many are held at once: a rebuild's entries (every user, ~180 bytes each) are
   * not all packed before the first goes out. The rest waits, as `keep`'s, for the next flush or
   * the commit (a routine run's few entries cost no transaction of their own). `entries` must not
   * change while this runs (sync.ts awaits it before the users phase changes the live users).
   */
  async keepFlushed(entries: Iterable<OutRecord>): Promise<void> {
    if (this.committing) throw new Error('keepFlushed after the commit began: the entries would be lost');
    for (const e of entries) {
      this.pending.append(e.key, e.value);
      if (this.flushDue) await this.flush();
    }
  }

  /**
   * The entries kept and not yet written, in order, to write in the commit transaction before the
   * watermark record. From here on nothing is flushed in a transaction of its own: the commit is
   * the fence's transaction now.
   */
  entries(): Iterable<OutRecord> {
    this.committing = true;
    return toRecords(this.topic, this.pending.drain());
  }

  /** Entries waiting for their write (not yet flushed or committed). */
  get waiting(): number {
    return this.pending.size;
  }

  /** A flush is due: a fence to write through, no commit begun, and flushEvery entries waiting. */
  private get flushDue(): boolean {
    return this.fence !== null && !this.committing && this.pending.size >= this.flushEvery;
  }

  /** Writes what is kept in a transaction of the fence; flushes run one after the other. */
  private flush(): Promise<void> {
    const run = this.flushing.then(async () => {
      if (this.pending.size === 0 || !this.fence || this.committing) return;
      const log = this.pending.drain();
      const records = toRecords(this.topic, log)[Symbol.iterator]();
      // at most flushEvery entries a transaction, however many were kept at once (a rebuild); the
      // next entry is read before a transaction opens, so none is opened empty
      let next = records.next();
      while (!next.done) {
        await this.fence.transaction(async ({ writer }) => {
          let batch: OutRecord[] = [];
          for (let n = 0; n < this.flushEvery && !next.done; n++, next = records.next()) {
            batch.push(next.value);
            if (batch.length === SEND_BATCH) {
              await writer.write(batch);
              batch = [];
            }
          }
          if (batch.length > 0) await writer.write(batch);
        });
      }
      // written: the next flush's entries go into these chunks, not into new ones left to the GC
      log.release();
    });
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /**
   * The watermark to commit. When the users topic grew by exactly the records this run wrote
   * through `writer` since `start` (so nobody else wrote in between, and every one of them has its
   * entry), the index is complete up to the present end and the next run's tail is only this
   * commit's tombstones. Otherwise `start`: the next run reads everything after it again.
   * Called when the commit is next: no entry is flushed on its own after it.
   */
  async nextWatermark(start: Map<number, bigint>): Promise<Map<number, bigint>> {
    // the flushes started (the writes awaited theirs; keep's run in the background) complete
    // first; then the commit follows, and its tombstones' entries wait for it (a flush then would
    // be a transaction inside the commit's)
    await this.flushing;
    this.committing = true;
    if (this.failed) throw this.failed;
    const ends = await this.withAdmin((admin) => admin.fetchTopicOffsets(this.usersTopic));
    let grown = 0n;
    for (const p of ends) {
      const from = start.get(p.partition);
      if (from === undefined) return start;
      grown += BigInt(p.high) - from;
    }
    if (grown !== BigInt(this.written)) {
      this.logger.info(
        `the ${this.what} topic has records of another writer since the run started: the next run reads them`,
        {
          grown: grown.toString(),
          written: this.written,
        },
      );
      return start;
    }
    return new Map(ends.map((p) => [p.partition, BigInt(p.high)]));
  }

  /**
   * The watermark record: the users-topic offsets the index is complete up to, and a random `id`
   * that makes each one a record of its own. A checkpoint knows its index topic by the record at
   * its last offset (index-read.ts), usually a watermark: without the id, an index topic recreated
   * and written as before (Kafka wiped, a rebuild of as many users) held the same watermark at the
   * same offset, and its other entries were taken from the old topic (index-checkpoint-s21.test.ts).
   */
  watermarkRecord(offsets: Map<number, bigint>): OutRecord {
    const byPartition = Object.fromEntries([...offsets].map(([p, o]) => [p, o.toString()]));
    const value = JSON.stringify({ topic: this.usersTopic, offsets: byPartition, id: randomUUID() });
    return { topic: this.topic, key: Buffer.from(markKeyOf(this.connector)), value: Buffer.from(value), headers: {} };
  }

  /** Keeps the index entry of a users record the run publishes, from its key and the headers it was sent with. */
  private keepProjection(r: OutRecord): void {
    const key = `${this.connector}\u0000${this.decodeKey(r.key)}`;
    if (r.value === null || r.headers[HEADERS.connector] !== this.connector) return this.pending.append(key, null);
    const h = r.headers;
    this.pending.append(
      key,
      entryValue(h[HEADERS.org], h[HEADERS.userLogin], h[HEADERS.contentHash], h[HEADERS.device]),
    );
  }

  private entry(userKey: string, value: string | null): OutRecord {
    const key = Buffer.from(`${this.connector}\u0000${userKey}`);
    return { topic: this.topic, key, value: value === null ? null : Buffer.from(value), headers: {} };
  }

  /** Records a topic holds now (high − low of every partition), at most PRESIZE_MAX. */
  private async recordCount(topic: string): Promise<number> {
    return recordsIn(await this.withAdmin((admin) => admin.fetchTopicOffsets(topic)));
  }

  /** The index topic's delete.retention.ms. */
  private async tombstoneRetentionMs(): Promise<number> {
    const described = await this.withAdmin((admin) =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: this.topic, configNames: ['delete.retention.ms'] }],
      }),
    );
    const value = described.resources[0]?.configEntries.find((e) => e.configName === 'delete.retention.ms');
    const ms = Number(value?.configValue);
    if (!Number.isFinite(ms) || ms <= 0) throw new Error(`delete.retention.ms is ${value?.configValue ?? 'not given'}`);
    return ms;
  }

  private async exists(): Promise<boolean> {
    return this.withAdmin(async (admin) => (await admin.listTopics()).includes(this.topic));
  }

  private async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }
}

/**
 * The most keys a load makes room for at once. A topic's record count bounds its keys from above:
 * a compacted topic's newest segment still holds every superseded record (a full run writes every
 * user's index entry again), so the count may be several times the keys. Past this (16 MiB of
 * slots, 2.1M keys) the table grows as before; `fit` gives back what was reserved and not used.
 */
export const PRESIZE_MAX = 2 ** 21;

function recordsIn(offsets: { low: string; high: string }[]): number {
  let n = 0;
  for (const p of offsets) n += Math.max(0, Number(p.high) - Number(p.low));
  return Math.min(n, PRESIZE_MAX);
}

/** `<org>\t<flags><hash>\t<device>`: the part of a users record a run needs. */
export function entryValue(
  org: string | undefined,
  flags: string | undefined,
  hash: string | undefined,
  device: string | undefined,
): string {
  return `${org ?? ''}\t${validFlags(flags) ?? NO_FLAGS}${hash ?? ''}\t${device ?? ''}`;
}

/** Applies one index entry as readLiveIndex applies the record it projects. */
export function applyEntry(live: LiveIndex, key: string, value: string | null, orgId: string | null): void {
  if (value === null) return live.put(key, null);
  // the device is last and may hold any character: only the first two tabs separate
  const first = value.indexOf('\t');
  const second = value.indexOf('\t', first + 1);
  const [org, state, device] = [value.slice(0, first), value.slice(first + 1, second), value.slice(second + 1)];
  if (orgId !== null && org !== '' && org !== orgId) return live.put(key, null, org);
  const flags = state.slice(0, 2);
  live.put(key, { hash: state.slice(2), device: device || undefined, flags: flags === NO_FLAGS ? undefined : flags });
}

/** The entry value of `key` in a loaded index: live (this org), another org's, or null. */
export function entryOf(live: LiveIndex, key: string, orgId: string | null): string | null {
  const user = live.get(key);
  if (user) return entryValue(orgId ?? undefined, user.flags, user.hash, user.device);
  const foreign = live.foreignOrg(key);
  return foreign === undefined ? null : entryValue(foreign, undefined, '', undefined);
}

/** The watermark record's value. */
interface Watermark {
  topic: string;
  offsets: Record<string, string>;
}

/** A watermark record's random id (watermarkRecord), undefined when it has none (written before session 21). */
function markId(value: Buffer): string | undefined {
  const id = (parseMark(value.toString('utf8')) as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id.length >= 32 ? id : undefined;
}

function parseMark(text: string): Watermark | null {
  try {
    const v = JSON.parse(text) as { topic?: unknown; offsets?: unknown };
    const ok = typeof v.topic === 'string' && typeof v.offsets === 'object' && v.offsets !== null;
    return ok ? (v as Watermark) : null;
  } catch {
    return null;
  }
}

/** The offsets to read the tail from, or null when the watermark cannot be trusted (rebuild). */
export function tailStart(
  mark: Watermark | null,
  topic: string,
  ends: { partition: number; low: string; high: string }[],
): Map<number, bigint> | null {
  if (!mark || mark.topic !== topic) return null;
  const from = new Map<number, bigint>();
  for (const p of ends) {
    const at = mark.offsets[String(p.partition)];
    if (at === undefined || !/^\d+$/.test(at)) return null;
    const offset = BigInt(at);
    // the users topic no longer has these offsets (recreated, or records deleted): start over
    if (offset > BigInt(p.high) || offset < BigInt(p.low)) return null;
    from.set(p.partition, offset);
  }
  return Object.keys(mark.offsets).length === ends.length ? from : null;
}

function* toRecords(topic: string, log: EntryLog): Iterable<OutRecord> {
  for (const e of log.entries()) yield { topic, key: e.key, value: e.value, headers: {} };
}

function* map<T, U>(xs: Iterable<T>, fn: (x: T) => U): Iterable<U> {
  for (const x of xs) yield fn(x);
}

function* chain<T>(...parts: Iterable<T>[]): Iterable<T> {
  for (const p of parts) yield* p;
}
