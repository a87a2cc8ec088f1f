import type { SalesforceExtractor, StreamRequest, StreamResult } from '../../connectors/salesforce';
import { RecordError } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import { HEADERS } from '../../schemas/topics';
import { consume, drainBatches } from '../drain';
import type { LiveIndex } from '../kafka/live-index';
import type { OutRecord, PublisherOptions, RecordWriter } from '../kafka/publisher';
import { deadLetter, mappingFingerprint, runHeaders, userDigest, type RunIdentity } from '../records';
import type { StageContext } from '../stages';
import { convertScalar } from '../stages/convert';
import { createRowMapper } from '../stages/map-row';
import type { UsersReadState } from '../run-state';
import { planIncrementalRead, readShape, type UsersReadPlan } from '../users-read-plan';
import type { StreamRuntime } from './runtime';
import { ownString } from '../../kernel/own-string';

/** Default re-read window of an incremental stream before its watermark. */
export const DEFAULT_OVERLAP_MS = 60_000;
/**
 * Default re-read window of a snapshot stream read incrementally: the users' (salesforceTuning.
 * usersOverlapMs), for the same reason: a row is stamped when its transaction starts and becomes
 * visible when it commits, so a stamp older than the watermark can appear after a read.
 */
export const DEFAULT_SNAPSHOT_OVERLAP_MS = 5 * 60_000;

export interface StreamRunDeps {
  extractor: SalesforceExtractor;
  logger: Logger;
  writer: RecordWriter;
  publisher: PublisherOptions;
  signal: AbortSignal;
  /**
   * Snapshot streams: the keys published before, with their content hashes (sync.ts: the stream's
   * compact live index plus its topic's tail, StreamIndexes.loader). Called only for a snapshot stream.
   */
  loadLive: () => Promise<LiveIndex>;
}

export interface StreamRunContext {
  run: RunIdentity;
  stage: StageContext;
  deadLetterTopic: string;
  /** Publish every record, changed or not (default: only changed ones, for snapshots). */
  fullRepublish: boolean;
  /** Incremental streams: the committed watermark (epoch ms), null before the first success. */
  watermark: number | null;
  /**
   * Snapshot streams declared incremental: what the last committed run recorded of its read, the
   * extractor's policy (undefined: always in full) and the run's start (schedules the full reads).
   */
  snapshotRead?: { previous: SnapshotReadState | null; policy: { fullScanEveryMs: number } | undefined; now: number };
}

/** What the next run needs to read only a snapshot stream's changed rows: as the users' read state. */
export type SnapshotReadState = UsersReadState;

/** What one stream's extraction phase did; deletions come later, from `gone`. */
export interface StreamPhase {
  readonly runtime: StreamRuntime;
  /** Why the stream was not read (nothing published, nothing to delete). */
  skipped?: string;
  extracted: number;
  published: number;
  unchanged: number;
  deadLettered: number;
  /** Snapshot streams: keys published before that this complete, verified run did not read. */
  gone: string[];
  /** Keys live before the run (what the deletion guard compares `gone` with). */
  liveBefore: number;
  /** Incremental streams: the watermark to commit (epoch ms; never beyond the run's start). */
  watermark: number | null;
  result: StreamResult | null;
  /** Snapshot streams declared incremental: which read ran and why, what it read, the state to commit. */
  read?: {
    plan: UsersReadPlan;
    rowsRead: Partial<Record<'full' | 'ids' | 'changed' | 'byId', number>>;
    state: SnapshotReadState | null;
  };
}

/**
 * The extraction phase of one declared stream: read its object (Bulk or REST as declared), map
 * each row with the stream's mapping, encode it with its Avro schema, publish it keyed by its
 * key. A snapshot stream first reads the keys it published before (the live index of its
 * compacted topic); each key read is struck off, so what remains once the extraction resolved
 * complete and verified is `gone`. A row that cannot become a record is dead-lettered and still
 * struck off: a bad row never deletes. An object the user cannot read is skipped, and deletes
 * nothing. Nothing is tombstoned here: the run does it in its commit (pipeline/sync.ts).
 */
export async function extractStream(
  rt: StreamRuntime,
  deps: StreamRunDeps,
  ctx: StreamRunContext,
): Promise<StreamPhase> {
  const { decl, mapping, keyTarget } = rt.loaded;
  const phase: StreamPhase = {
    runtime: rt,
    extracted: 0,
    published: 0,
    unchanged: 0,
    deadLettered: 0,
    gone: [],
    liveBefore: 0,
    watermark: ctx.watermark,
    result: null,
  };
  const logger = deps.logger.child({ stream: decl.name });
  if (!deps.extractor.stream) return skip(phase, logger, 'this extractor reads no declared streams', decl.permission);
  const snapshot = decl.mode.kind === 'snapshot';
  // phase timings in the log: where a routine run of a stream spends its time (issue 15)
  const t0 = performance.now();
  const live: LiveIndex | null = snapshot ? await deps.loadLive() : null;
  phase.liveBefore = live?.size ?? 0;
  const liveIndexMs = Math.round(performance.now() - t0);
  const watermarkField = decl.mode.kind === 'incremental' ? decl.mode.watermarkField : null;
  const { since, stampField, strip, readFields, fingerprint } = readSetup(rt, ctx);
  const mapper = createRowMapper(mapping, decl.object);
  let newest = ctx.watermark ?? -Infinity;
  let newestStamp = -Infinity;
  // what makes two reads comparable: the fields the read selected (describe drops those the org
  // does not expose, and a field granted later changes them), the mapping and the schema. Another
  // shape and the rows of a changed read would not compare with those published: a full read.
  const shapeOf = (selected: readonly string[]): number =>
    readShape({
      object: decl.object,
      api: decl.api,
      key: decl.key,
      fields: selected.filter((f) => f !== strip),
      stampField,
      fingerprint,
    });

  /** One row read → its record (null: unchanged), or a dead letter; `previous` as the live index knew it. */
  const toRecord = (row: Record<string, string>, previous: { hash: string } | undefined): OutRecord | null => {
    phase.extracted++;
    if (watermarkField !== null) {
      const t = convertScalar('timestamp-millis', row[watermarkField] ?? '');
      if (t.ok && (t.value as number) > newest) newest = t.value as number;
    }
    if (strip !== null) {
      const { [strip]: _stamp, ...rest } = row;
      row = rest;
    }
    const res = mapper(row, ctx.stage);
    let error: RecordError;
    if (res.ok) {
      try {
        // The row's digest as the users' (rowDigest since session 13; a record that carries a contentHash
        // digest, from before, is compared with the row's contentHash: the upgrade publishes no unchanged
        // record again). fullRepublish and incremental streams compare nothing: rowDigest alone.
        const { hash, unchanged } = userDigest(
          row,
          fingerprint,
          snapshot && !ctx.fullRepublish ? previous?.hash : undefined,
        );
        if (snapshot && !ctx.fullRepublish && unchanged) {
          phase.unchanged++;
          return null;
        }
        const out: OutRecord = {
          topic: rt.topic,
          key: rt.codec.encodeKey(String(res.record[keyTarget])),
          value: rt.codec.encodeValue(res.record),
          headers: { ...runHeaders(ctx.run), [HEADERS.contentHash]: hash },
        };
        phase.published++;
        return out;
      } catch (err) {
        if (!(err instanceof RecordError)) throw err;
        error = err;
      }
    } else error = res.error;
    phase.deadLettered++;
    return deadLetter(ctx.deadLetterTopic, decl.object, row, error, ctx.run, new Date());
  };
  /** The stamp of a row read (Salesforce's own value: the next run's watermark). */
  const stamp = (row: Record<string, string>): void => {
    const t = convertScalar('timestamp-millis', row[stampField!] ?? '');
    if (t.ok && (t.value as number) > newestStamp) newestStamp = t.value as number;
  };
  /**
   * The watermark a read earns: its highest stamp, but never past its first job's creation on
   * Salesforce's clock (as the users' read, extract.ts): a job is read in chunks, so a row read late
   * may carry an edit made after the job started while a row read early missed one; the next read
   * since that creation finds both.
   */
  const earned = (jobs: readonly { createdDate?: string }[]): number => {
    const created = jobs.map((j) => Date.parse(j.createdDate ?? '')).filter((t) => Number.isFinite(t));
    return created.length > 0 ? Math.min(newestStamp, ...created) : newestStamp;
  };
  const read = (
    req: Partial<StreamRequest>,
    onRow: (row: Record<string, string>) => OutRecord | null,
  ): Promise<[number, StreamResult]> =>
    // a page's rows at a time, as the users and the login events (docs/performance-s15-conn.md)
    drainBatches(
      deps.extractor.stream!(request(rt, readFields, since, req)),
      onRow,
      deps.writer,
      deps.publisher,
      deps.signal,
    );

  let result: StreamResult;
  const previous = ctx.snapshotRead?.previous ?? null;
  let plan = live !== null ? readPlan(rt, ctx, live.size > 0) : null;
  // a. The rows changed since the watermark (minus the overlap), published as a full read's.
  let changed: StreamResult | null = null;
  const seen = new Set<string>();
  if (plan?.kind === 'incremental') {
    [, changed] = await read(changedRead(stampField!, plan), (row) => {
      stamp(row);
      seen.add(ownString(row[decl.key] ?? '')); // a copy: a parsed value pins its page (own-string.ts)
      return toRecord(row, live!.take(row[decl.key] ?? ''));
    });
    if (changed.skipped) return skip(phase, logger, changed.skipped, decl.permission);
    if (shapeOf(changed.fields) !== previous!.shape) {
      // a field granted or withdrawn since: the rows read before would not compare. The changed
      // rows already taken from `live` are read (and published) again by the full read below.
      plan = { kind: 'full', reason: `the ${decl.object} fields read or the mapping changed since the last run` };
    }
  }
  if (plan?.kind === 'incremental') {
    // b. The Id-only snapshot, verified complete as a full read is: each key struck from `live`, so
    //    what remains is exactly what a full read would delete. A key not live (new, or dead-lettered
    //    before) that the changed read did not carry is read in full by Id. It publishes nothing:
    //    read row by row, without the publishing pipeline's per-row cost.
    const need: string[] = [];
    const ids = deps.extractor.stream!(idSnapshotRead(rt));
    const ir = await consume(
      ids,
      (row) => {
        const id = row[decl.key] ?? '';
        if (seen.has(id)) return;
        if (!live!.strike(id)) need.push(ownString(id));
        else {
          phase.extracted++;
          phase.unchanged++;
        }
      },
      deps.signal,
    );
    if (ir.skipped) return skip(phase, logger, ir.skipped, decl.permission);
    // the watermark moves only by the changed query's own rows (a row read by Id may be newer than a
    // change the changed query did not see yet)
    const watermark = Math.max(previous!.watermark, earned(changed!.jobs));
    // c. Their rows, by Id.
    const [, br] = need.length > 0 ? await read({ ids: need }, (row) => toRecord(row, undefined)) : [0, null];
    if (br?.skipped) return skip(phase, logger, br.skipped, decl.permission);
    const rowsRead = { changed: changed!.rowsRead, ids: ir.rowsRead, byId: br?.rowsRead ?? 0 };
    result = {
      ...ir,
      jobs: [...changed!.jobs, ...ir.jobs, ...(br?.jobs ?? [])],
      rowsRead: rowsRead.changed + rowsRead.ids + rowsRead.byId,
    };
    phase.read = {
      plan,
      rowsRead,
      state: { watermark, fullReadAt: previous!.fullReadAt, shape: previous!.shape },
    };
  } else {
    newestStamp = -Infinity;
    [, result] = await read(fullRead(stampField, plan), (row) => {
      if (plan) stamp(row);
      return toRecord(row, live?.take(row[decl.key] ?? ''));
    });
    if (plan) {
      phase.read = {
        plan,
        rowsRead: { ...(changed ? { changed: changed.rowsRead } : {}), full: result.rowsRead },
        state: Number.isFinite(newestStamp)
          ? {
              watermark: earned(result.jobs),
              fullReadAt: ctx.snapshotRead?.now ?? ctx.stage.extractedAt,
              shape: shapeOf(result.fields),
            }
          : null,
      };
    }
  }
  phase.result = result;
  if (result.skipped) return skip(phase, logger, result.skipped, decl.permission);
  // never past the run's start: a row stamped in the future must not hide later rows
  if (Number.isFinite(newest)) phase.watermark = Math.min(newest, ctx.stage.extractedAt);
  if (live) phase.gone = [...live.keys()];
  logger.info('stream read and published', {
    object: decl.object,
    api: decl.api,
    extracted: phase.extracted,
    published: phase.published,
    unchanged: phase.unchanged,
    deadLettered: phase.deadLettered,
    toDelete: phase.gone.length,
    ...(phase.read
      ? { read: phase.read.plan.kind, reason: phase.read.plan.reason, rowsRead: phase.read.rowsRead }
      : {}),
    liveIndexMs,
    readPublishMs: Math.round(performance.now() - t0) - liveIndexMs,
  });
  return phase;
}

/**
 * The requests a stream's phase starts with, in order, as extractStream makes them, before its live
 * index is loaded (sync.ts has their Bulk jobs created ahead, SalesforceExtractor.prestart): an
 * incremental snapshot's changed rows and Id snapshot (its live index assumed not empty, as on every
 * routine run), else its one read. Reads by Id depend on what was read, and are not among them. A
 * request the phase does not make after all only costs a job that is aborted and deleted unread.
 */
export function plannedStreamReads(rt: StreamRuntime, ctx: StreamRunContext): StreamRequest[] {
  const { since, stampField, readFields } = readSetup(rt, ctx);
  if (rt.loaded.decl.mode.kind !== 'snapshot') return [request(rt, readFields, since, {})];
  const plan = readPlan(rt, ctx, true);
  if (plan?.kind === 'incremental')
    return [request(rt, readFields, since, changedRead(stampField!, plan)), idSnapshotRead(rt)];
  return [request(rt, readFields, since, fullRead(stampField, plan))];
}

/** What a stream reads (the fields, the stamp it reads for its watermark only) and from when. */
function readSetup(rt: StreamRuntime, ctx: StreamRunContext) {
  const { decl, mapping, valueSchema, fields } = rt.loaded;
  const watermarkField = decl.mode.kind === 'incremental' ? decl.mode.watermarkField : null;
  const since =
    watermarkField !== null && ctx.watermark !== null
      ? {
          field: watermarkField,
          from: new Date(Math.min(ctx.watermark, ctx.stage.extractedAt) - (decl.overlapMs ?? DEFAULT_OVERLAP_MS)),
        }
      : null;
  // a snapshot's stamp field is read for the watermark only: not mapped, not in the content hash
  // (a row whose stamp moved and whose mapped fields did not is unchanged)
  const stampField = decl.mode.kind === 'snapshot' ? (decl.mode.incremental?.watermarkField ?? null) : null;
  const strip = stampField !== null && !fields.includes(stampField) ? stampField : null;
  const readFields = strip !== null ? [...fields, strip] : fields;
  return { since, stampField, strip, readFields, fingerprint: mappingFingerprint([mapping, valueSchema]) };
}

/** A snapshot stream's read plan (null: not declared incremental); `liveKnown`: its live index has keys. */
function readPlan(rt: StreamRuntime, ctx: StreamRunContext, liveKnown: boolean): UsersReadPlan | null {
  const decl = rt.loaded.decl;
  if (decl.mode.kind !== 'snapshot' || !decl.mode.incremental) return null;
  const previous = ctx.snapshotRead?.previous ?? null;
  return planIncrementalRead(
    {
      // an index with no key (a new or renamed topic) has nothing to compare a changed read
      // with: every key would be read by Id, one query per few thousand. A full read instead.
      previous: liveKnown ? previous : null,
      // the shape is known once describe has chosen the fields: checked after the changed read
      shape: previous?.shape ?? 0,
      fullRepublish: ctx.fullRepublish,
      policy: ctx.snapshotRead?.policy && {
        fullScanEveryMs: ctx.snapshotRead.policy.fullScanEveryMs,
        overlapMs: decl.overlapMs ?? DEFAULT_SNAPSHOT_OVERLAP_MS,
      },
      hasModstamp: true,
      now: ctx.snapshotRead?.now ?? ctx.stage.extractedAt,
    },
    {
      rows: `${decl.name} rows`,
      singular: 'row',
      object: decl.object,
      option: 'streamsFullScanEvery',
      shape: `the ${decl.object} fields read or the mapping`,
      extractor: 'the extractor reads this stream only in full',
    },
  );
}

function request(
  rt: StreamRuntime,
  readFields: readonly string[],
  since: StreamRequest['since'],
  req: Partial<StreamRequest>,
): StreamRequest {
  const { decl } = rt.loaded;
  return { object: decl.object, fields: readFields, key: decl.key, api: decl.api, since, ...req };
}

const changedRead = (stampField: string, plan: UsersReadPlan): Partial<StreamRequest> => ({
  since: { field: stampField, from: new Date(plan.sinceMs!) },
});

const fullRead = (stampField: string | null, plan: UsersReadPlan | null): Partial<StreamRequest> =>
  plan ? { require: [stampField!] } : {};

function idSnapshotRead(rt: StreamRuntime): StreamRequest {
  const { decl } = rt.loaded;
  return { object: decl.object, fields: [decl.key], key: decl.key, api: decl.api };
}

function skip(phase: StreamPhase, logger: Logger, why: string, permission: string | undefined): StreamPhase {
  phase.skipped = why;
  phase.gone = [];
  logger.warn('declared stream skipped: nothing published or deleted for it', {
    reason: why,
    ...(permission ? { needs: permission } : {}),
  });
  return phase;
}
