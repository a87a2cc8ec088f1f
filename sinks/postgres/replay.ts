import type { Producer } from 'kafkajs';
import { FatalError, isRetriable } from '../../kernel/errors';
import { silentLogger } from '../../kernel/logger';
import { sleep } from '../../kernel/retry';
import { startSinkConsumer, type SinkConsumer } from '../engine/consumer';
import { createDeadLetter, deadLetterProducer, type DeadLetter } from '../engine/dead-letter';
import { decodeStringKey } from '../../schemas/keys';
import { createDecoder } from '../engine/decode';
import { ensureDeadLetterTopic, topicEnds } from '../engine/engine';
import { createBatchProcessor } from '../engine/processor';
import type { SinkStream } from '../port';
import { inTransaction, withClient } from './db';
import { dropOffsets, lockOffsetRows, moveOffsets } from './offsets';
import { DEFAULT_TUNING, postgresSinkStreams, type PostgresSinkDeps, type SinkTuning } from './sink';
import { checkTableName, columnName, qualified } from './sql';
import { createPostgresStore } from './store';
import { copyMissingColumns, mergeInto, swapIn } from './swap';
import { deleteCascade } from './statements';

export interface ReplayProgress {
  phase: 'building' | 'swapping' | 'done';
  /** Records consumed so far. */
  records: number;
  /** Average since the replay started. */
  recordsPerSecond: number;
  /** Records between the replay's position and the end of the topics, summed over partitions. */
  lag: number;
  elapsedMs: number;
}

/** What replay needs: the sink's own dependencies (its tables are the live ones to rebuild,
 *  its groupId the base of a fresh group per replay), and what to rebuild. */
export interface ReplayDeps extends Omit<PostgresSinkDeps, 'hooks'> {
  /** Which streams' tables to rebuild, by stream name (default all); the others stay as they are. */
  only?: readonly string[];
  onProgress?: (p: ReplayProgress) => void;
  /** How often onProgress is called while building, in ms (default 1000). */
  progressIntervalMs?: number;
}

export interface ReplayResult {
  /** live table name → the name it was built under. */
  swapped: Record<string, string>;
  /** live table name → rows written and removed, for live tables that existed (merged into). */
  merged: Record<string, { written: number; removed: number }>;
  records: number;
  durationMs: number;
}

/**
 * Backfill and reconciliation: rebuilds the tables from the earliest offsets of the topics.
 *
 * A fresh consumer group reads from the beginning into fresh tables (<table>__replay_<time>),
 * with the same decoding, collapsing and dead-lettering as the sink. When it has caught up with
 * the end of the topics, ONE transaction locks the live tables against writers (SHARE ROW
 * EXCLUSIVE: readers go on), checks again under the lock that nothing was published since
 * (otherwise it lets go and catches up again), and brings each live table to the rebuilt
 * content (swap.ts mergeInto): the live table itself stays, with the operator's indexes,
 * grants, comments and views; users absent from the compacted topic are removed (only those of
 * the connectors the topic holds, or without a connector), with their login events when
 * onUserRemoved is delete-logins; login events are only added, so those older than the topic's
 * retention stay. A live table that does not exist yet is the rebuilt one, renamed. The only
 * tables replay ever drops are the fresh ones it created. A live sink running meanwhile waits
 * for the lock and goes on from the replay's positions (offsets.ts).
 * Rejects (after dropping the fresh tables) on a fatal error; the live tables are then untouched.
 */
export async function replay(deps: ReplayDeps): Promise<ReplayResult> {
  const logger = deps.logger ?? silentLogger;
  const tuning: SinkTuning = { ...DEFAULT_TUNING, maxBytesPerPartition: 2 * 1024 * 1024, ...deps.tuning };
  const started = Date.now();
  const stamp = started.toString(36);
  const all = postgresSinkStreams(deps);
  for (const name of deps.only ?? []) {
    if (!all.some((s) => s.name === name))
      throw new FatalError(
        'CONFIG_INVALID',
        `replay: no stream named ${name}; give one of ${all.map((s) => s.name).join(', ')}`,
      );
  }
  const chosen = all.filter((s) => !deps.only || deps.only.includes(s.name));
  // The fresh tables are merged in whole; removals (and their cascades) are applied at the merge.
  const plan = chosen.map((live) => {
    const fresh = checkTableName(
      { schema: live.table.schema, name: `${live.table.name}__replay_${stamp}` },
      `replay table for ${live.table.name}`,
    );
    const stream: SinkStream = { ...live, table: fresh, views: [], deletesCascadeTo: [] };
    return { live, stream, topic: live.topic };
  });
  const store = createPostgresStore({
    pool: deps.pool,
    chunkRows: tuning.chunkRows,
    synchronousCommit: tuning.synchronousCommit,
    statementTimeoutMs: tuning.statementTimeoutMs,
    logger,
  });

  const positions = new Map<string, bigint>();
  const mergedCounts: ReplayResult['merged'] = {};
  let records = 0;
  let phase: ReplayProgress['phase'] = 'building';
  let lag = Number.NaN;
  const report = () => {
    const elapsedMs = Date.now() - started;
    deps.onProgress?.({
      phase,
      records,
      recordsPerSecond: elapsedMs > 0 ? Math.round((records * 1000) / elapsedMs) : 0,
      lag,
      elapsedMs,
    });
  };

  const admin = deps.kafka.admin();
  await admin.connect();
  let consumer: SinkConsumer | undefined;
  let producer: Producer | undefined;
  const groupId = `${deps.groupId}-replay-${stamp}`;
  const timer = setInterval(report, deps.progressIntervalMs ?? 1000);
  try {
    for (const p of plan) {
      await deps.pool.query(`DROP TABLE IF EXISTS ${qualified(p.stream.table)}`);
      await dropOffsets(deps.pool, p.stream.table);
    }
    await store.open(
      plan.map((p) => p.stream),
      {
        logger,
        latestSchema: async (s) => (await deps.schemas.latest(`${s.topic}-value`))?.schema,
        // The fresh tables are loaded in bulk (bulk.ts), their indexes built before the swap.
        endOffsets: (s) => topicEnds(admin, s.topic).catch(() => undefined),
      },
    );
    for (const p of plan) await withClient(deps.pool, (c) => copyMissingColumns(c, p.live.table, p.stream.table));
    await ensureDeadLetterTopic(admin, deps.topics.deadLetter, logger);
    producer = deadLetterProducer(deps.kafka);
    await producer.connect();
    // Users whose record went to the dead letters here: absent from the rebuilt table for that
    // reason only, so the merge must not remove them (a bad record never deletes a user).
    const deadKeys = new Map(plan.filter((p) => p.live.write === 'upsert').map((p) => [p.topic, new Set<string>()]));
    const processor = createBatchProcessor({
      sink: store,
      decoder: createDecoder(deps.schemas, store.acceptSchema?.bind(store)),
      routes: new Map(plan.map((p) => [p.topic, p.stream])),
      deadLetter: rememberDeadKeys(
        createDeadLetter(producer, deps.topics.deadLetter, undefined, store.deadLetterHeaders?.bind(store)),
        deadKeys,
      ),
      logger,
      retry: tuning.retry,
      breakerFailures: tuning.breakerFailures,
      maxBatchBytes: tuning.maxBatchBytes,
      // The fresh tables are merged in whole; removals are applied at the merge (mergeInto).
    });
    const topics = plan.map((p) => p.topic);
    consumer = await startSinkConsumer(
      deps.kafka,
      processor,
      { ...tuning, groupId, topics, fromBeginning: true },
      {
        logger,
        onBatch: (b) => {
          positions.set(`${b.topic}:${b.partition}`, b.nextOffset);
          records += b.result.records;
        },
      },
    );
    const crashed = consumer.done.then(() =>
      Promise.reject(new FatalError('REPLAY_STOPPED', 'the replay consumer stopped')),
    );
    crashed.catch(() => undefined);

    /** Records left to read up to the topics' current ends (0 = caught up). */
    const remaining = async () => {
      let left = 0n;
      for (const topic of topics) {
        for (const p of await admin.fetchTopicOffsets(topic)) {
          const at = positions.get(`${topic}:${p.partition}`) ?? BigInt(p.low);
          if (BigInt(p.high) > at) left += BigInt(p.high) - at;
        }
      }
      lag = Number(left);
      return left;
    };

    for (;;) {
      while ((await Promise.race([remaining(), crashed])) > 0n) await Promise.race([sleep(200), crashed]);
      phase = 'swapping';
      await consumer.pause();
      // Normally done by the batch that reached the start's end offsets; here in any case.
      await store.endBulkLoads();
      const swapped = await withClient(deps.pool, (client) =>
        inTransaction(client, async () => {
          await client.query("SET LOCAL lock_timeout = '30s'");
          // A live sink's transaction locks its offset row first, then its table: same order
          // here, or the two could deadlock.
          await lockOffsetRows(
            client,
            plan.map((p) => p.live.table),
          );
          const live = plan.map((p) => qualified(p.live.table));
          const existing = await client.query<{ t: string | null }>(
            'SELECT to_regclass(t)::text AS t FROM unnest($1::text[]) AS t',
            [live],
          );
          const lockable = existing.rows.filter((r) => r.t !== null).map((r) => r.t as string);
          // Writers wait (a live sink, another replay); readers go on reading the old rows.
          if (lockable.length > 0) await client.query(`LOCK TABLE ${lockable.join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
          // Under the lock no live sink can commit; anything published since the check above?
          if ((await remaining()) > 0n) return false;
          const removed: { live: SinkStream; keys: string[] }[] = [];
          for (const [i, p] of plan.entries()) {
            const rebuilt = store.table(p.stream);
            if (existing.rows[i].t === null) {
              await swapIn(client, rebuilt, p.live.table);
            } else {
              // The live table stays (the operator's indexes, grants, comments, views): its rows
              // are brought to the rebuilt content, then the rebuilt table (ours) is dropped.
              const merged = await mergeInto(client, rebuilt, p.live.table, {
                removeAbsent: p.live.write === 'upsert',
                keep: [...(deadKeys.get(p.topic) ?? [])],
              });
              removed.push({ live: p.live, keys: merged.removed });
              await client.query(`DROP TABLE ${qualified(p.stream.table)}`);
              mergedCounts[p.live.table.name] = { written: merged.written, removed: merged.removed.length };
            }
            // The live sink resumes from the rebuilt table's positions: it skips what the replay applied.
            await moveOffsets(client, p.stream.table, p.live.table);
          }
          // After every merge: the login merge must not bring back events of a user removed here
          // (the declared cascades, e.g. onUserRemoved: delete-logins).
          for (const r of removed) {
            if (r.keys.length === 0) continue;
            for (const c of r.live.deletesCascadeTo) {
              const target = all.find((s) => s.name === c.stream);
              if (target) await deleteCascade(client, { table: target.table, column: columnName(c.field) }, r.keys);
            }
          }
          return true;
        }),
      ).catch((err: unknown) => {
        // A lock timeout or a deadlock with a live sink's first batch: catch up and try again.
        if (isRetriable(err)) {
          logger.warn('replay swap failed; catching up and trying again', { error: (err as Error).message });
          return false;
        }
        throw err;
      });
      if (swapped) break;
      phase = 'building';
      consumer.resume();
    }
    phase = 'done';
    report();
    logger.info('replay swapped in the rebuilt tables', {
      tables: plan.map((p) => p.live.table.name),
      records,
      ms: Date.now() - started,
    });
    return {
      swapped: Object.fromEntries(plan.map((p) => [p.live.table.name, p.stream.table.name])),
      merged: mergedCounts,
      records,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    for (const p of plan) {
      await deps.pool.query(`DROP TABLE IF EXISTS ${qualified(p.stream.table)}`).catch(() => undefined);
      await dropOffsets(deps.pool, p.stream.table).catch(() => undefined);
    }
    throw err;
  } finally {
    clearInterval(timer);
    await consumer?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
    await store.close();
  }
}

/** The dead-letter topic, remembering per upsert topic the keys it received (undecodable keys cannot match a row). */
function rememberDeadKeys(inner: DeadLetter, into: ReadonlyMap<string, Set<string>>): DeadLetter {
  return {
    topic: inner.topic,
    async send(entries) {
      for (const e of entries) {
        const keys = into.get(e.source.topic);
        if (!keys || !e.source.key) continue;
        try {
          keys.add(decodeStringKey(e.source.key));
        } catch {
          // not a wire-format string key: no table row has it
        }
      }
      await inner.send(entries);
    },
  };
}
