import type { SalesforceExtractor, StreamResult } from '../../connectors/salesforce';
import { RecordError } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import { HEADERS } from '../../schemas/topics';
import { drain } from '../drain';
import type { LiveIndex } from '../kafka/live-index';
import type { OutRecord, PublisherOptions, RecordWriter } from '../kafka/publisher';
import { contentHash, deadLetter, mappingFingerprint, runHeaders, type RunIdentity } from '../records';
import type { StageContext } from '../stages';
import { convertScalar } from '../stages/convert';
import { createRowMapper } from '../stages/map-row';
import type { StreamRuntime } from './runtime';

/** Default re-read window of an incremental stream before its watermark. */
export const DEFAULT_OVERLAP_MS = 60_000;

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
}

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
  const { decl, mapping, valueSchema, fields, keyTarget } = rt.loaded;
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
  const since =
    watermarkField !== null && ctx.watermark !== null
      ? {
          field: watermarkField,
          from: new Date(Math.min(ctx.watermark, ctx.stage.extractedAt) - (decl.overlapMs ?? DEFAULT_OVERLAP_MS)),
        }
      : null;
  const mapper = createRowMapper(mapping, decl.object);
  const fingerprint = mappingFingerprint([mapping, valueSchema]);
  let newest = ctx.watermark ?? -Infinity;

  const ex = deps.extractor.stream({ object: decl.object, fields, key: decl.key, api: decl.api, since });
  const [, result] = await drain(
    ex,
    (row) => {
      phase.extracted++;
      const previous = live?.take(row[decl.key] ?? '');
      if (watermarkField !== null) {
        const t = convertScalar('timestamp-millis', row[watermarkField] ?? '');
        if (t.ok && (t.value as number) > newest) newest = t.value as number;
      }
      const res = mapper(row, ctx.stage);
      let error: RecordError;
      if (res.ok) {
        try {
          const hash = contentHash(row, fingerprint);
          if (snapshot && !ctx.fullRepublish && previous !== undefined && previous.hash === hash) {
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
    },
    deps.writer,
    deps.publisher,
    deps.signal,
  );
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
    liveIndexMs,
    readPublishMs: Math.round(performance.now() - t0) - liveIndexMs,
  });
  return phase;
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
