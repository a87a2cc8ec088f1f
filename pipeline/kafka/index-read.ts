import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../../kernel/logger';
import { CheckpointRefused, readCheckpoint, writeCheckpoint, type CheckpointHeader } from './index-checkpoint';
import { LiveIndex } from './live-index';
import { readToEnd, type ReadToEndOptions } from './read-to-end';

/** What reading an index topic gives: the entries applied, and its watermark record's value (null: none). */
export interface IndexState {
  live: LiveIndex;
  mark: unknown;
}

export interface IndexReadSpec {
  kafka: Kafka;
  /** The index topic (one partition). */
  topic: string;
  connector: string;
  orgId: string | null;
  /** What one index record does to the state (the latest record per key decides). */
  apply: (state: IndexState, m: KafkaMessage) => void;
  /**
   * Whether a record is one of its own, never written twice alike (a watermark with its random id):
   * a checkpoint is written only when the last record read is such a record, since the next load
   * knows the topic by that record at that offset (a recreated topic cannot hold it again).
   */
  unique: (m: KafkaMessage) => boolean;
  /** How long the index topic keeps a tombstone (its delete.retention.ms). */
  tombstoneRetentionMs: () => Promise<number>;
  /** Keys to make room for before a read from the start (the topic's record count). */
  presize: () => Promise<number>;
  logger: Logger;
  /** For the log lines: the users or a declared stream's name. */
  what: string;
  /** A directory for the index's checkpoint (index-checkpoint.ts); none: the topic is read from its start. */
  checkpointDir?: string;
  opts?: ReadToEndOptions;
}

/** The checkpoint's last record is not at its offset, or not the same record: the topic changed under it. */
class Moved extends CheckpointRefused {}

/**
 * Reads an index topic to its end into a LiveIndex. With a checkpoint directory: from the
 * checkpoint of the last read, when there is one for this connector, topic and org, and its last
 * record is still in the topic (the read starts at that record and checks it: a recreated or
 * truncated topic, or a record compaction has removed, sends the read back to the topic's start);
 * then the checkpoint is written again for the next read. A checkpoint that cannot be used or
 * written is logged and costs only time: the topic is the truth.
 */
export async function readIndexTopic(spec: IndexReadSpec): Promise<IndexState> {
  const file = spec.checkpointDir
    ? path.join(
        spec.checkpointDir,
        `${encodeURIComponent(spec.topic)}.${encodeURIComponent(spec.connector)}.checkpoint`,
      )
    : undefined;
  const expect = { connector: spec.connector, indexTopic: spec.topic, orgId: spec.orgId };
  // before any record is read: every record after the last one read was written later
  const readAt = Date.now();
  let read: Read | undefined;
  if (file && fs.existsSync(file)) {
    try {
      const keeps = await tombstoneRetention(spec);
      // its age is checked on its header, before its entries are restored
      const cached = readCheckpoint(file, expect, undefined, (header) => checkAge(spec, header, keeps));
      if (cached) {
        read = await readFrom(spec, cached.header, cached.live).catch((err: unknown) => {
          cached.live.dispose(); // refused after all: its chunks are the full read's
          throw err;
        });
      }
    } catch (err) {
      if (!(err instanceof CheckpointRefused) && !isOffsetGone(err)) throw err;
      // never used later either (it could be once the topic keeps tombstones longer, or the clock moved)
      fs.rmSync(file, { force: true });
      spec.logger.warn(`the ${spec.what}' index checkpoint is not used: the index topic is read from its start`, {
        file,
        reason: (err as Error).message,
      });
    }
  }
  if (!read) {
    const live = new LiveIndex();
    live.reserve(await spec.presize());
    read = await readFrom(spec, undefined, live);
  }
  if (file && read.last && read.applied > 0 && read.lastUnique) {
    const header: CheckpointHeader = { ...expect, last: read.last, next: read.next, mark: read.state.mark, readAt };
    try {
      fs.mkdirSync(spec.checkpointDir!, { recursive: true, mode: 0o700 });
      writeCheckpoint(file, header, read.state.live);
    } catch (err) {
      spec.logger.warn(`the ${spec.what}' index checkpoint could not be written (the next load reads the topic)`, {
        file,
        error: (err as Error).message,
      });
    }
  }
  return read.state;
}

/** delete.retention.ms of an index topic a run creates (live-index-topic.ts ensure): a week. */
export const INDEX_TOMBSTONE_RETENTION_MS = 7 * 86_400_000;

/** Room for the broker's clock and ours to differ: a checkpoint this close to the retention is refused too. */
const CLOCK_MARGIN_MS = 3_600_000;

/**
 * Refuses a checkpoint older than the index topic keeps its tombstones: every record after its
 * last one was written after its read began (`readAt`), and a tombstone among them (an entry no
 * longer live, a run that flushed and then failed) is removed by compaction once
 * delete.retention.ms has passed. A read from the checkpoint would then keep that entry live,
 * where a read from the start finds it gone.
 */
function checkAge(spec: IndexReadSpec, header: CheckpointHeader, keeps: number): void {
  const age = Date.now() - header.readAt;
  if (age < -CLOCK_MARGIN_MS) {
    throw new CheckpointRefused(
      `it is dated ${new Date(header.readAt).toISOString()}, later than now (a clock set back)`,
    );
  }
  if (age >= keeps - CLOCK_MARGIN_MS) {
    const h = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`;
    throw new CheckpointRefused(
      `it is ${h(age)} old, and the index topic keeps a tombstone ${h(keeps)} (delete.retention.ms, ` +
        `less an hour for clocks): a deletion written since may be gone. For runs further apart (an index ` +
        `topic created before session 21 keeps Kafka's 24 h): kafka-configs --alter --entity-type topics ` +
        `--entity-name ${spec.topic} --add-config delete.retention.ms=${INDEX_TOMBSTONE_RETENTION_MS}`,
    );
  }
}

async function tombstoneRetention(spec: IndexReadSpec): Promise<number> {
  try {
    return await spec.tombstoneRetentionMs();
  } catch (err) {
    throw new CheckpointRefused(`the index topic's delete.retention.ms cannot be read (${(err as Error).message})`);
  }
}

interface Read {
  state: IndexState;
  /** The last record read (the checkpoint's, when nothing came after it). */
  last: CheckpointHeader['last'] | undefined;
  next: string;
  /** Records applied in this read (not counting the checkpoint's own last record). */
  applied: number;
  /** Whether the last record read is one of its own (IndexReadSpec.unique). */
  lastUnique: boolean;
}

/** Reads the topic from the start, or from a checkpoint's last record (checked, not applied again). */
async function readFrom(spec: IndexReadSpec, from: CheckpointHeader | undefined, live: LiveIndex): Promise<Read> {
  const state: IndexState = { live, mark: from ? from.mark : null };
  let lastMessage: KafkaMessage | undefined;
  let last = from?.last;
  let checked = from === undefined;
  let applied = 0;
  const ends = await readToEnd(
    spec.kafka,
    spec.topic,
    (m, partition) => {
      if (!checked) {
        if (partition !== 0 || m.offset !== from!.last.offset || digest(m) !== from!.last.digest) {
          throw new Moved(`its last record (offset ${from!.last.offset}) is no longer the same in the topic`);
        }
        checked = true;
        return;
      }
      spec.apply(state, m);
      lastMessage = m;
      applied++;
    },
    from ? new Map([[0, BigInt(from.last.offset)]]) : undefined,
    spec.opts,
  );
  if (from && (!checked || ends.size !== 1 || !ends.has(0))) {
    throw new Moved(
      checked ? 'the index topic has more than one partition now' : 'the index topic ends before its last record',
    );
  }
  if (lastMessage) last = { offset: lastMessage.offset, digest: digest(lastMessage) };
  live.fit(); // the record count was an upper bound
  if (from) spec.logger.info(`the ${spec.what}' index read from its checkpoint`, { live: live.size, applied });
  const lastUnique = lastMessage !== undefined && spec.unique(lastMessage);
  return { state, last, next: String(ends.get(0) ?? 0n), applied, lastUnique };
}

/** A record's key and value (a null value apart from an empty one), hashed. */
function digest(m: KafkaMessage): string {
  const h = createHash('sha256');
  const len = (b: Buffer | null) => {
    const n = Buffer.alloc(5);
    if (b === null) n[0] = 1;
    else n.writeUInt32LE(b.length, 1);
    return n;
  };
  h.update(len(m.key)).update(m.key ?? Buffer.alloc(0));
  h.update(len(m.value)).update(m.value ?? Buffer.alloc(0));
  return h.digest('base64url');
}

function isOffsetGone(err: unknown): boolean {
  return (err as { code?: string })?.code === 'READ_TO_END_OFFSET_GONE';
}
