import type { Kafka } from 'kafkajs';
import type { Logger } from '../../kernel/logger';
import { decodeStringKey } from '../../schemas/keys';
import type { RunFence } from '../kafka/fence';
import type { LiveIndex } from '../kafka/live-index';
import { LiveIndexTopic } from '../kafka/live-index-topic';
import type { OutRecord, RecordWriter } from '../kafka/publisher';
import type { StreamRuntime } from './runtime';

export interface StreamIndexDeps {
  kafka: Kafka;
  connectorName: string;
  logger: Logger;
  /** The run's fence: entries are written through it only (see LiveIndexTopic). */
  fence: RunFence | null;
  dryRun: boolean;
  replicationFactor: number | undefined;
  /** Where the indexes' checkpoints are kept (index-checkpoint.ts); unset: none. */
  checkpointDir?: string;
}

interface Held {
  index: LiveIndexTopic;
  start: Map<number, bigint>;
}

/**
 * The compact live indexes of a run's snapshot streams (issue 15): each snapshot stream's keys
 * and content hashes come from `<stream topic>.live-index` plus the stream topic's tail after
 * its watermark, not from every value of the stream topic. It is the users' index
 * (pipeline/kafka/live-index-topic.ts) over the stream's topic, so the same reasoning keeps it
 * exact: an entry is kept only once its record was acknowledged (`writer`); every entry, the
 * run's tombstones' included, and the new watermark go out in the run's fenced commit
 * (`commitRecords`), or, past FLUSH_EVERY, in the fence's own transactions; a run that fails
 * before its commit leaves the watermark where it was, so the next run reads what it published
 * in its tail (a crash between publishing and committing loses no key).
 */
export class StreamIndexes {
  private readonly held = new Map<string, Held>();

  constructor(private readonly deps: StreamIndexDeps) {}

  /** The loader of one stream's live keys, for extractStream (called once, when the stream runs). */
  loader(rt: StreamRuntime, orgId: string): () => Promise<LiveIndex> {
    return async () => {
      const { kafka, connectorName, logger, fence, dryRun } = this.deps;
      const name = rt.loaded.decl.name;
      const index = new LiveIndexTopic(kafka, rt.topic, connectorName, decodeStringKey, logger, name);
      if (!dryRun) await index.ensure(this.deps.replicationFactor);
      if (fence) index.useFence(fence);
      index.useCheckpoints(this.deps.checkpointDir);
      const loaded = await index.load(orgId);
      // the keys the tail changed (everything after a rebuild): written again by this run's commit
      if (!dryRun) await index.keepFlushed(loaded.refresh());
      this.held.set(name, { index, start: loaded.watermark });
      return loaded.live;
    };
  }

  /** The run's writer for one stream: keeps the entry of each record once it is acknowledged. */
  writer(rt: StreamRuntime, inner: RecordWriter): RecordWriter {
    const name = rt.loaded.decl.name;
    return {
      write: async (batch) => {
        const held = this.held.get(name);
        await (held ? held.index.writer(inner) : inner).write(batch);
      },
    };
  }

  /**
   * Before the commit: each index's next watermark (the end of its stream topic when only this run
   * wrote there since it loaded, else where it loaded from). Then `commitRecords` inside the commit.
   */
  async prepareCommit(): Promise<(w: RecordWriter, tombstones: Map<string, OutRecord[]>) => Promise<void>> {
    const marks = new Map<string, OutRecord>();
    for (const [name, h] of this.held) marks.set(name, h.index.watermarkRecord(await h.index.nextWatermark(h.start)));
    return async (w, tombstones) => {
      for (const [name, h] of this.held) {
        const gone = tombstones.get(name) ?? [];
        // one transaction: its sends go one after the other, the tombstones' entries kept as acknowledged
        await inBatches(gone, h.index.writer(w));
        await inBatches([...h.index.entries()], w);
        await w.write([marks.get(name)!]);
      }
      // a stream's tombstones without an index (none today: every snapshot stream has one)
      for (const [name, gone] of tombstones) if (!this.held.has(name)) await inBatches(gone, w);
    };
  }
}

const SEND_BATCH = 500;

async function inBatches(records: OutRecord[], w: RecordWriter): Promise<void> {
  for (let i = 0; i < records.length; i += SEND_BATCH) await w.write(records.slice(i, i + SEND_BATCH));
}
