import { randomUUID } from 'node:crypto';
import _ from 'highland';
import { consume, drainBatches, throwIfAborted } from './drain';
import type { Kafka, Producer } from 'kafkajs';
import type { LoginCursor, LoginsResult, Prestarted, SalesforceExtractor, UsersResult } from '../connectors/salesforce';
import type { Catalog } from '../schemas/catalog';
import type { TopicCodec } from '../schemas/codec';
import { ConnectorError, FatalError, RecordError } from '../kernel/errors';
import type { Logger } from '../kernel/logger';
import { scrubSecrets } from '../kernel/redact';
import { checkDeletions, guardError, type DeletionGuardOptions } from './guard';
import { LiveIndexTopic, type LoadedLive } from './kafka/live-index-topic';
import { DeviceCodec, LatestLogins } from './latest-logins';
import { HEADERS, type TopicNames } from '../schemas/topics';
import {
  kafkaWriter,
  nullWriter,
  publishStream,
  type OutRecord,
  type PublisherOptions,
  type RecordWriter,
} from './kafka/publisher';
import { DEFAULT_LOCK, StateStore, type LockOptions } from './kafka/state-store';
import { fenceId, openFence, type RunFence } from './kafka/fence';
import { deadLetter, mappingFingerprint, runHeaders, tombstone, userDigest, type RunIdentity } from './records';
import { packIds, unpackIds } from './login-ids';
import { packFlags, withCarriedFlags } from './user-login-flags';
import { newRunState, type RunState } from './run-state';
import { planUsersRead, readShape } from './users-read-plan';
import { snapshotReadState, withSnapshotReadState } from './streams/read-state';
import type { LiveUser } from './kafka/live-index';
import { decodeStringKey } from '../schemas/keys';
import { stateCodec } from './state-codec';
import {
  createLatestLoginAssigner,
  createLoginEventStage,
  createUserStage,
  type StageContext,
  type StageResult,
} from './stages';
import { extractStream, plannedStreamReads, type StreamPhase, type StreamRunContext } from './streams/run-stream';
import { StreamIndexes } from './streams/stream-index';
import type { StreamRuntime } from './streams/runtime';
import { ownString } from '../kernel/own-string';

/**
 * One sync run: the product documentation's rule, "a user not imported when the connector runs
 * and previously imported is removed from Neurons", made safe.
 *
 *   lock → LoginHistory (incremental) → live users from Kafka → User snapshot → verify →
 *   deletion guard → tombstones → commit state → unlock
 *
 * The promises, each kept in one place below:
 *  - tombstones only after BOTH extractions completed and were verified (`done` resolved);
 *  - a failed, partial or interrupted run publishes no tombstone and leaves the committed state
 *    (the LoginHistory watermark) as it was; records it did publish are harmless upserts;
 *  - the deletion guard refuses mass deletions before any tombstone is sent;
 *  - runs of one connector never overlap (the lock in the state topic).
 */
export interface SyncOptions {
  connectorName: string;
  topics: TopicNames;
  guard: DeletionGuardOptions;
  publisher: PublisherOptions;
  /** Report what the run would publish and delete, and publish nothing (no lock, no state). */
  dryRun: boolean;
  /** Publish every user, changed or not (the default publishes only changed users). */
  fullRepublish: boolean;
  /** Let this run go on although fields the last run read are no longer readable (they become null for every user). */
  allowFieldLoss?: boolean;
  /** A scheduled run: the slot (epoch ms) and attempt (1 = the slot's run, 2+ = retries). */
  scheduled?: { slot: number; attempt: number };
  /** topicSettings.replicationFactor: of the live-index topic when a run creates it (unset: the broker's default). */
  replicationFactor?: number;
  /** Where checkpoints of the live indexes are kept (pipeline/kafka/index-checkpoint.ts); unset: none. */
  indexCheckpointDir?: string;
}

export interface SyncDeps {
  kafka: Kafka;
  /** Connected, idempotent producer (createProducer). */
  producer: Producer;
  extractor: SalesforceExtractor;
  codecs: { users: TopicCodec; logins: TopicCodec; state: TopicCodec };
  catalog: Catalog;
  logger: Logger;
  now?: () => number;
  /** Aborting it interrupts the run: it fails safely (no tombstones, no watermark move). */
  signal?: AbortSignal;
  lock?: LockOptions;
  /**
   * The declared streams beyond User and LoginHistory (schemas/streams, pipeline/streams), run
   * after the users, deleted from in the same commit. Absent: none.
   */
  streams?: readonly StreamRuntime[];
  /** Live counts for progress lines and metrics: called every PROGRESS_EVERY rows read and at each phase change.
   *  Must not throw. */
  onProgress?: (p: SyncProgress) => void;
}

/** A run's counts so far (what onProgress receives). */
export interface SyncProgress extends Counts {
  phase: 'logins' | 'users' | 'deletions' | 'done';
  /** LoginHistory rows read from Salesforce so far. */
  loginEventsRead: number;
  /** Records the current phase's Bulk job holds (its numberRecordsProcessed), once the job is complete. */
  expected?: number;
}

/** Rows read between two progress calls. */
export const PROGRESS_EVERY = 200;

export interface RunSummary {
  runId: string;
  connectorName: string;
  status: 'succeeded' | 'failed';
  dryRun: boolean;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  usersExtracted: number;
  usersPublished: number;
  usersUnchanged: number;
  usersTombstoned: number;
  /** Users a dry run (or a refused guard) would have tombstoned. */
  usersToDelete: number;
  loginEventsPublished: number;
  loginDuplicatesDropped: number;
  deadLettered: number;
  /** Records read from Salesforce per second, over the whole run. */
  recordsPerSecond: number;
  apiUsage: { used: number; max: number } | null;
  apiCalls: number;
  loginHistoryWatermark: string | null;
  /** The declared streams' counts, by stream name (absent when the run has none). */
  streams?: Record<string, StreamCounts>;
  /** Which kind of users read ran, why, and the rows each of its reads returned (absent before the users phase). */
  usersRead?: UsersReadSummary;
  /** Why the run failed (absent on success). */
  error?: { code: string; message: string };
}

export interface UsersReadSummary {
  kind: 'full' | 'incremental';
  reason: string;
  /** Rows Salesforce returned: `full` for a full read; `ids`, `changed`, `byId` for an incremental one. */
  rowsRead?: Partial<Record<'full' | 'ids' | 'changed' | 'byId', number>>;
  /** How long the users read took, publishing included (ms). */
  durationMs?: number;
}

export interface StreamCounts {
  extracted: number;
  published: number;
  unchanged: number;
  deadLettered: number;
  /** Records a dry run (or a refused guard) would have tombstoned. */
  toDelete: number;
  tombstoned: number;
  /** Why the stream was not read (absent when it was). */
  skipped?: string;
  /** Snapshot streams declared incremental: which read ran, why, and the rows each of its reads returned. */
  read?: UsersReadSummary;
}

type Counts = Pick<
  RunSummary,
  | 'usersExtracted'
  | 'usersPublished'
  | 'usersUnchanged'
  | 'usersTombstoned'
  | 'usersToDelete'
  | 'loginEventsPublished'
  | 'loginDuplicatesDropped'
  | 'deadLettered'
>;

export async function runSync(deps: SyncDeps, opts: SyncOptions): Promise<RunSummary> {
  const now = deps.now ?? Date.now;
  const runId = randomUUID();
  const startedAt = now();
  const logger = deps.logger.child({ runId, connector: opts.connectorName });
  const store = new StateStore(
    deps.kafka,
    deps.producer,
    opts.topics.state,
    opts.connectorName,
    stateCodec(deps.codecs.state),
    deps.lock ?? DEFAULT_LOCK,
    logger,
  );
  const state = newRunState(opts.connectorName, runId, startedAt);
  if (opts.scheduled) Object.assign(state, { scheduledFor: opts.scheduled.slot, attempt: opts.scheduled.attempt });
  const counts: Counts = {
    usersExtracted: 0,
    usersPublished: 0,
    usersUnchanged: 0,
    usersTombstoned: 0,
    usersToDelete: 0,
    loginEventsPublished: 0,
    loginDuplicatesDropped: 0,
    deadLettered: 0,
  };
  let loginsResult: LoginsResult | null = null;
  let usersResult: UsersResult | null = null;
  let usersReadInfo: UsersReadSummary | undefined;
  let loginRows = 0;
  const phases: StreamPhase[] = [];
  const streamCounts: Record<string, StreamCounts> = {};
  let phase: SyncProgress['phase'] = 'logins';
  let expected: (() => number | undefined) | undefined;
  const progress = (p: SyncProgress['phase']) => {
    phase = p;
    const total = phase === 'logins' || phase === 'users' ? expected?.() : undefined;
    const known = total !== undefined ? { expected: total } : {};
    deps.onProgress?.({ phase, ...counts, loginEventsRead: loginRows, ...known });
  };
  const tick = () => {
    if ((loginRows + counts.usersExtracted) % PROGRESS_EVERY === 0) progress(phase);
  };

  // Runs never overlap: a second run of this connector stops here (a dry run takes no lock).
  const snapshot = opts.dryRun ? await store.load() : await store.acquire(state);
  // incremental streams resume from the committed watermarks; a failed run leaves them as they are
  const committedWatermarks = snapshot.committed?.streamWatermarks ?? null;
  if (committedWatermarks) state.streamWatermarks = committedWatermarks;
  // Where LoginHistory resumes: the progress a later-refused run saved, else the last success.
  let resumeFrom: LoginCursor | null = cursorOf(snapshot.logins ?? snapshot.committed);
  let fence: RunFence | null = null;
  let prestarted: Prestarted | undefined;
  let earlyLoad: Promise<Settled<LoadedLive>> | null = null;
  // The run stops when asked (deps.signal) or when the broker fenced it: a fenced run must not go on
  // publishing its older view of the users after the run that took over has committed.
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(deps.signal?.reason);
  if (deps.signal?.aborted) onOuterAbort();
  else deps.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const heartbeat = opts.dryRun
    ? null
    : setInterval(
        () =>
          void store.heartbeat(state).catch((e: Error) => {
            if (e instanceof ConnectorError && e.code === 'RUN_FENCED') {
              logger.error('the broker fenced this run (another run took over): stopping it', { error: e.message });
              stop.abort(e);
            } else if (e instanceof ConnectorError && e.code === 'RUN_FENCE_SEND_FAILED') {
              // the fence takes no transaction after a send that failed for good: this run can commit
              // nothing, and its lease runs out; reading on would only spend the org's API budget
              logger.error('a send through the run fence failed for good: stopping this run', { error: e.message });
              stop.abort(e);
            } else logger.warn('run lock heartbeat failed', { error: e.message });
          }),
        (deps.lock ?? DEFAULT_LOCK).heartbeatMs,
      );
  heartbeat?.unref();
  const summary = (status: RunSummary['status'], error?: unknown): RunSummary => {
    const endedAt = now();
    const usage = usersResult?.apiUsage ?? loginsResult?.apiUsage ?? null;
    const read = counts.usersExtracted + (loginsResult?.rowsRead ?? 0);
    return {
      runId,
      connectorName: opts.connectorName,
      status,
      dryRun: opts.dryRun,
      startedAt: new Date(startedAt).toISOString(),
      endedAt: new Date(endedAt).toISOString(),
      durationMs: endedAt - startedAt,
      ...counts,
      recordsPerSecond: Math.round(read / Math.max(0.001, (endedAt - startedAt) / 1000)),
      apiUsage: usage ? { used: usage.used, max: usage.max } : null,
      apiCalls: Math.max(usersResult?.apiCalls ?? 0, loginsResult?.apiCalls ?? 0),
      // a failed run reports the watermark it leaves: the saved progress, else the committed one
      loginHistoryWatermark:
        (status === 'succeeded' ? loginsResult?.watermark?.toISOString() : undefined) ?? resumeFrom?.watermark ?? null,
      ...(deps.streams && deps.streams.length > 0 ? { streams: streamCounts } : {}),
      ...(usersReadInfo ? { usersRead: usersReadInfo } : {}),
      ...(error ? { error: describeError(error) } : {}),
    };
  };

  try {
    if (!opts.dryRun) {
      // Fence every earlier holder of this connector's lock at the broker, then write through the fence.
      const id = fenceId(opts.topics.state, opts.connectorName);
      fence = await openFence(deps.kafka, id, opts.connectorName, { compression: opts.publisher.compression });
      store.useFence(fence);
      await store.heartbeat(state);
    }
    throwIfAborted(stop.signal);
    // The users imported before come from the compact live index plus the users topic after its
    // watermark. A connector bound to an org starts loading them now, while Salesforce is reached
    // (the login, the describes, the jobs created ahead; with session 12's cheaper index entries a
    // 1M routine run's start went 7.5 -> 6.5 s, docs/performance.md). It
    // loads for the bound org: a run that reaches another org refuses below, before it uses them.
    // After the fence is open, so the last holder's open transactions are aborted and the read's
    // end is the one the load would see after connect. Never rejects: its error is thrown where
    // the load is awaited, and a run that fails before that waits for it in `finally`.
    const index = new LiveIndexTopic(deps.kafka, opts.topics.users, opts.connectorName, decodeStringKey, logger);
    index.useCheckpoints(opts.indexCheckpointDir);
    const boundAtStart = snapshot.committed?.orgId ?? null;
    earlyLoad = boundAtStart === null ? null : settled(index.load(boundAtStart));
    const info = await deps.extractor.connect();
    const run: RunIdentity = { runId, connectorName: opts.connectorName, orgId: info.orgId };
    const ctx: StageContext = {
      instanceUrl: info.instanceUrl,
      orgId: info.orgId,
      connectorName: opts.connectorName,
      runId,
      extractedAt: startedAt,
    };
    const writer = opts.dryRun ? nullWriter : kafkaWriter(deps.producer, opts.publisher);
    const stages = buildStages(deps.catalog);

    // 0. One connector, one org: the state and the live users must be this org's, or nothing is
    //    published or deleted. The users this connector imported before (the latest record per
    //    key in the users topic) are read now, before the first record goes out.
    const bound = snapshot.committed?.orgId ?? null;
    if (bound !== null && bound !== info.orgId)
      throw orgMismatch(opts.connectorName, bound, info.orgId, 'its run state');
    // A field the last run read and this one cannot (a permission or field-level security change)
    // would turn to null for every user at once: held back like a mass deletion, unless allowed.
    state.sourceFields = [
      ...info.userFields.map((f) => `User.${f}`),
      ...info.loginFields.map((f) => `LoginHistory.${f}`),
    ].sort();
    const readable = new Set(state.sourceFields);
    // Not lost: a field the config now excludes (a choice), and LoginHistory when the object is off
    // for this user (its events stop; the device fields are carried forward, nothing is nulled).
    const chosen = (f: string) => info.excludedFields.some((x) => f.toLowerCase() === `user.${x.toLowerCase()}`);
    const loginsOff = (f: string) => f.startsWith('LoginHistory.') && !info.features.loginHistory.enabled;
    const lost = (snapshot.committed?.sourceFields ?? []).filter(
      (f) => !readable.has(f) && !chosen(f) && !loginsOff(f),
    );
    if (lost.length > 0 && !opts.allowFieldLoss) throw fieldsLost(lost, info.missingFields);
    if (lost.length > 0)
      logger.warn('fields the last run read are unreadable; allowed for this run: null from now on', { fields: lost });

    // The run's reads, planned now: the users' (full, or only the changes and an Id snapshot), and
    // each declared stream's context.
    const shape = readShape({ source: info.usersRead?.shape ?? null, mapping: stages.fingerprint });
    const plan = planUsersRead({
      previous: snapshot.committed?.usersRead,
      shape,
      fullRepublish: opts.fullRepublish,
      policy: info.usersRead && deps.extractor.userReads ? info.usersRead : undefined,
      hasModstamp: info.userFields.includes('SystemModstamp'),
      now: startedAt,
    });
    const streamContext = (rt: StreamRuntime): StreamRunContext => {
      const name = rt.loaded.decl.name;
      return {
        run,
        stage: ctx,
        deadLetterTopic: opts.topics.deadLetter,
        fullRepublish: opts.fullRepublish,
        watermark: committedWatermarks?.[name] ?? null,
        snapshotRead: {
          previous: snapshotReadState(committedWatermarks, name),
          policy: info.streamsRead,
          now: startedAt,
        },
      };
    };
    // Their Bulk jobs are kept created ahead of their reads (the next 2, in the order they are read),
    // so Salesforce processes them while the live index loads and the earlier ones are read (issue
    // 15). Each read takes its own job; those never read (a failed or stopped run) are aborted and
    // deleted in `finally`. Nothing else changes: every read is verified as before, and the
    // deletions still wait for all of them.
    prestarted = deps.extractor.prestart?.({
      ...(resumeFrom ? { logins: resumeFrom } : {}),
      users: plan.kind === 'full' ? { kind: 'full' } : { kind: 'incremental', since: new Date(plan.sinceMs!) },
      streams: (deps.streams ?? []).flatMap((rt) => plannedStreamReads(rt, streamContext(rt))),
    });
    if (!opts.dryRun) await index.ensure(opts.replicationFactor);
    // entries go out through the fence as they accumulate, in bounded transactions (LiveIndexTopic)
    if (fence) index.useFence(fence);
    // bound === info.orgId here when it loaded early (a missing index topic, created just above,
    // reads as the rebuild the serial load would have done from the empty topic). A record that
    // reached the users topic while the run connected (a zombie run's: its producer is not
    // fenced) is read as the serial load would have read it: the users are loaded again.
    let loaded = earlyLoad ? unsettled(await earlyLoad) : null;
    earlyLoad = null;
    if (loaded && (await index.grownSince(loaded.watermark))) {
      logger.info('the users topic grew while the run connected: the live users are loaded again');
      loaded = null;
    }
    loaded ??= await index.load(info.orgId);
    const live = loaded.live;
    const streamIndexes = new StreamIndexes({
      kafka: deps.kafka,
      connectorName: opts.connectorName,
      logger,
      fence,
      dryRun: opts.dryRun === true,
      replicationFactor: opts.replicationFactor,
      checkpointDir: opts.indexCheckpointDir,
    });
    const liveBefore = live.size;
    const foreign = [...live.foreignOrgs()];
    if (foreign.length > 0) {
      // after a deliberate re-point (reset) the other org's users are left alone; otherwise refuse
      if (bound === null)
        throw orgMismatch(opts.connectorName, foreign[0][0], info.orgId, `the ${foreign[0][1]} users it published`);
      const orgs = Object.fromEntries(foreign);
      logger.info(
        'users of another org published under this connector name are left alone (the connector was re-pointed)',
        { orgs },
      );
    }
    state.orgId = info.orgId;

    // entries of the keys the users topic changed since the watermark, kept now: after the refusals
    // above (a refused run lands none) and before the users phase changes `live`. Written through
    // the fence as they accumulate, the rest in the commit with the watermark.
    if (!opts.dryRun) await index.keepFlushed(loaded.refresh());

    // 1. LoginHistory since the committed watermark; remember each user's latest login device.
    const latest = new LatestLogins(stages.devices);
    const logins = deps.extractor.logins(resumeFrom);
    expected = logins.expectedRows;
    progress('logins');
    // one headers object for every login event (nothing downstream changes a record's headers)
    const loginHeaders = Object.freeze(runHeaders(run));
    // a page's rows at a time, not a highland value a row: a login event's dozen columns made the
    // stream's fixed per-record cost the largest part of its CPU (docs/performance-s14-logins.md)
    const [, lr] = await drainBatches(
      logins,
      (row) => {
        loginRows++;
        tick();
        const res = stages.login(row, ctx);
        if (res.ok) latest.offer(res.record);
        return encodeOr(
          res,
          opts.topics.deadLetter,
          'LoginHistory',
          row,
          run,
          (rec) => {
            counts.loginEventsPublished++;
            return {
              topic: opts.topics.logins,
              key: deps.codecs.logins.encodeKey(rec.id),
              value: deps.codecs.logins.encodeValue(rec),
              headers: loginHeaders,
            };
          },
          counts,
        );
      },
      writer,
      opts.publisher,
      stop.signal,
    );
    loginsResult = lr;
    counts.loginDuplicatesDropped = lr.duplicatesDropped;

    // 2. The users: a full snapshot, or (routine runs) an incremental read whose Id snapshot is as
    //    complete as the full one. Each user seen is struck from `live`; what remains was not imported now.
    usersReadInfo = { kind: plan.kind, reason: plan.reason };
    const usersReadStart = now();
    logger.info(`users read: ${plan.kind}`, { reason: plan.reason });
    // A user record's headers: the run's, the content hash, then the device and the UserLogin flags when
    // there are any, in that order (the order they are written in). Built as one object a user (a spread
    // of the run's headers and one object per optional header before).
    const runHeaderList = Object.entries(runHeaders(run));
    const userHeaders = (hash: string, device: string | undefined, flags: string | undefined) => {
      const h: Record<string, string> = {};
      for (const [k, v] of runHeaderList) h[k] = v;
      h[HEADERS.contentHash] = hash;
      if (device) h[HEADERS.device] = device;
      if (flags) h[HEADERS.userLogin] = flags;
      return h;
    };
    /** A user row → its record, or null when unchanged (same raw row, same mapping, no newer device). */
    const userRecord = (raw: Record<string, string>, previous: LiveUser | undefined): OutRecord | null => {
      counts.usersExtracted++;
      tick();
      // UserLogin unreadable this run (its keys absent): the flags, and the status they decide,
      // are the ones the user's last record carried, never null and 'active' read as news.
      const row = withCarriedFlags(raw, previous?.flags);
      const flags = packFlags(row);
      // The device is the later of the one last published and this run's latest login: a
      // record is the user's full current state, never "no news" read as "no device".
      const carried = stages.devices.valid(previous?.device);
      const device = DeviceCodec.later(carried, latest.packed(raw.Id));
      // The row's digest (rowDigest; a user whose last record carries a contentHash digest, from before
      // session 12, is compared with the row's contentHash: an upgrade publishes no unchanged user again).
      const { hash, unchanged } = userDigest(row, stages.fingerprint, opts.fullRepublish ? undefined : previous?.hash);
      // Unchanged (same raw row, same mapping), and no newer login device: consumers would see
      // nothing new, so the row is not even mapped.
      if (!opts.fullRepublish && unchanged && device === carried) {
        counts.usersUnchanged++;
        return null;
      }
      return encodeOr(
        stages.user(row, ctx),
        opts.topics.deadLetter,
        'User',
        row,
        run,
        (rec) => {
          counts.usersPublished++;
          return {
            topic: opts.topics.users,
            key: deps.codecs.users.encodeKey(rec.id),
            value: deps.codecs.users.encodeValue(stages.merge(rec, stages.devices.unpack(rec.id, device))),
            headers: userHeaders(hash, device, flags),
          };
        },
        counts,
      );
    };
    const usersWriter = opts.dryRun ? writer : index.writer(writer);
    let ur: UsersResult;
    let watermark: string | null;
    if (plan.kind === 'full') {
      const users = deps.extractor.users();
      expected = users.expectedRows;
      progress('users');
      // Seen, even if its row turns out bad (dead-lettered): a bad row must never delete a user.
      // A page's rows at a time, as the login events (docs/performance-s15-conn.md).
      [, ur] = await drainBatches(
        users,
        (raw) => userRecord(raw, live.take(raw.Id)),
        usersWriter,
        opts.publisher,
        stop.signal,
      );
      watermark = ur.maxSystemModstamp;
      usersReadInfo.rowsRead = { full: ur.rowsRead };
    } else {
      const reads = await deps.extractor.userReads!(stop.signal);
      progress('users');
      // a. The rows changed since the watermark (minus the overlap): published like a full read's.
      const changed = reads.changedSince(new Date(plan.sinceMs!));
      expected = changed.expectedRows;
      // the keys kept until the Id snapshot is read are copies: a parsed value pins its page (own-string.ts)
      const seen = new Set<string>();
      const [, cr] = await drainBatches(
        changed,
        (raw) => {
          seen.add(ownString(raw.Id));
          return userRecord(raw, live.take(raw.Id));
        },
        usersWriter,
        opts.publisher,
        stop.signal,
      );
      // b. The Id snapshot of the selection: each user struck from `live`. A full row is still
      //    needed for a user not live in the index (unfrozen, reactivated: no User change), whose
      //    UserLogin flags changed (frozen or locked: UserLogin only), or who has a newer login device.
      const ids = reads.ids();
      expected = ids.expectedRows;
      const need = new Map<string, LiveUser | undefined>();
      const ir = await consume(
        ids,
        (row) => {
          if (seen.has(row.Id)) return;
          const flags = packFlags(row);
          const newer = latest.packed(row.Id);
          // most users have no login this run: no device of theirs can be newer, so only whether
          // they are live and their flags decide, and their hash and device are not decoded
          const lean = newer === undefined ? live.peekFlags(row.Id) : undefined;
          if (lean !== undefined && (flags === undefined || flags === lean.flags)) {
            live.strike(row.Id);
            counts.usersExtracted++;
            counts.usersUnchanged++;
            tick();
            return;
          }
          const previous = live.take(row.Id);
          const carried = stages.devices.valid(previous?.device);
          if (
            previous === undefined ||
            (flags !== undefined && flags !== previous.flags) ||
            DeviceCodec.later(carried, newer) !== carried
          ) {
            need.set(ownString(row.Id), previous);
            return;
          }
          counts.usersExtracted++;
          counts.usersUnchanged++;
          tick();
        },
        stop.signal,
      );
      // c. Their full rows, by Id.
      const byIds = reads.byIds([...need.keys()]);
      expected = byIds.expectedRows;
      const [, br] = await drainBatches(
        byIds,
        (raw) => userRecord(raw, need.get(raw.Id)),
        usersWriter,
        opts.publisher,
        stop.signal,
      );
      ur = { ...ir, jobs: [...cr.jobs, ...ir.jobs, ...br.jobs], apiCalls: br.apiCalls, apiUsage: br.apiUsage };
      // the watermark moves only by the changed query's own rows: a row by Id may be newer than a
      // change the changed query did not see yet
      const previousMark = new Date(snapshot.committed!.usersRead!.watermark).toISOString();
      watermark =
        cr.maxSystemModstamp !== null && cr.maxSystemModstamp > previousMark ? cr.maxSystemModstamp : previousMark;
      usersReadInfo.rowsRead = { ids: ir.rowsRead, changed: cr.rowsRead, byId: br.rowsRead };
    }
    state.usersRead =
      watermark === null
        ? null
        : {
            watermark: Date.parse(watermark),
            fullReadAt: plan.kind === 'full' ? startedAt : snapshot.committed!.usersRead!.fullReadAt,
            shape,
          };
    usersResult = ur;
    usersReadInfo.durationMs = now() - usersReadStart;
    // Every login event and every user carrying its device is published: LoginHistory progress is
    // kept from here on, even if the deletion phase refuses (the guard) or fails.
    if (!opts.dryRun) {
      await store.saveProgress(toState(state, summary('succeeded'), lr.cursor, now()));
      resumeFrom = lr.cursor;
    }

    // 2b. The declared streams (licences and any other): each read, mapped and published as
    //     declared; what each would delete is only computed here, and deleted in the commit below.
    //     A snapshot stream's keys published before come from its compact live index (stream-index.ts).
    for (const rt of deps.streams ?? []) {
      throwIfAborted(stop.signal);
      const name = rt.loaded.decl.name;
      const p = await extractStream(
        rt,
        {
          extractor: deps.extractor,
          logger,
          // a dry run keeps no entries (it writes no index), as the users' writer above; a stream
          // without an index (not a snapshot: its loader is never called) writes straight through
          writer: opts.dryRun ? writer : streamIndexes.writer(rt, writer),
          publisher: opts.publisher,
          signal: stop.signal,
          loadLive: streamIndexes.loader(rt, info.orgId),
        },
        streamContext(rt),
      );
      phases.push(p);
      counts.deadLettered += p.deadLettered;
      streamCounts[name] = {
        extracted: p.extracted,
        published: p.published,
        unchanged: p.unchanged,
        deadLettered: p.deadLettered,
        toDelete: p.gone.length,
        tombstoned: 0,
        ...(p.skipped ? { skipped: p.skipped } : {}),
        ...(p.read ? { read: { kind: p.read.plan.kind, reason: p.read.plan.reason, rowsRead: p.read.rowsRead } } : {}),
      };
    }

    // 3. Every extraction is complete and verified (their `done` resolved): deletions may be
    //    computed now, and only now. The guard decides before a single tombstone is sent, for the
    //    users and for each snapshot stream: one refusal and nothing at all is deleted.
    throwIfAborted(stop.signal);
    progress('deletions');
    const gone = [...live.keys()];
    counts.usersToDelete = gone.length;
    const verdict = checkDeletions(gone.length, liveBefore, opts.guard);
    if (!verdict.allowed) throw guardError(verdict.reason!);
    for (const p of phases) {
      const decl = p.runtime.loaded.decl;
      const noun = {
        one: `${decl.name} record`,
        many: `${decl.name} records`,
        check: `Check the integration user's access to ${decl.object}.`,
      };
      const v = checkDeletions(p.gone.length, p.liveBefore, opts.guard, noun);
      if (!v.allowed) throw guardError(v.reason!);
    }
    const watermarks = phases.filter((p) => p.runtime.loaded.decl.mode.kind === 'incremental' && p.watermark !== null);
    if (watermarks.length > 0) {
      state.streamWatermarks = {
        ...committedWatermarks,
        ...Object.fromEntries(watermarks.map((p) => [p.runtime.loaded.decl.name, p.watermark!])),
      };
    }
    // the snapshot streams read incrementally: committed with the run, so a failed run moves nothing
    for (const p of phases) {
      // a stream skipped (not readable) moves nothing: its next readable run reads from its state
      if (!p.read || p.skipped) continue;
      state.streamWatermarks = withSnapshotReadState(state.streamWatermarks, p.runtime.loaded.decl.name, p.read.state);
    }

    // 4. Tombstones and the commit, one transaction through the fence: all visible or none, and
    //    none at all from a run that lost its lock. The next run resumes from this watermark.
    if (!opts.dryRun) {
      counts.usersTombstoned = gone.length;
      for (const p of phases) streamCounts[p.runtime.loaded.decl.name].tombstoned = p.gone.length;
    }
    const done = summary('succeeded');
    if (!opts.dryRun) {
      // with their index entries, and the index's new watermark; the declared streams' tombstones
      // go in the same transaction
      const watermark = await index.nextWatermark(loaded.watermark);
      const streamTombstones = new Map(
        phases.map((p) => [
          p.runtime.loaded.decl.name,
          p.gone.map((id) => tombstone(p.runtime.topic, p.runtime.codec.encodeKey(id), run)),
        ]),
      );
      const streamCommit = await streamIndexes.prepareCommit();
      const tombstones = async (w: RecordWriter) => {
        const records = gone.map((id) => tombstone(opts.topics.users, deps.codecs.users.encodeKey(id), run));
        // each snapshot stream's tombstones, the entries of its index and its watermark
        await streamCommit(w, streamTombstones);
        await publishStream(_(records), index.writer(w), {
          ...opts.publisher,
          maxInFlight: 1, // one transaction: its sends go one after the other
        });
        // every index entry of this run goes through the fence (see LiveIndexTopic), then the watermark
        await publishStream(_(index.entries()), w, { ...opts.publisher, maxInFlight: 1 });
        await w.write([index.watermarkRecord(watermark)]);
      };
      await store.commit(toState(state, done, lr.cursor, now()), tombstones).catch((err: unknown) => {
        counts.usersTombstoned = 0;
        for (const c of Object.values(streamCounts)) c.tombstoned = 0;
        throw err;
      });
    }
    logger.info('run succeeded', { ...done });
    progress('done');
    return done;
  } catch (err) {
    const failed = summary('failed', err);
    logger.error('run failed: no tombstones were published', {
      error: failed.error,
      loginHistoryWatermark: failed.loginHistoryWatermark,
    });
    if (!opts.dryRun) await store.recordFailure(toState(state, failed, resumeFrom, now())).catch(() => undefined);
    progress('done');
    return failed;
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    // the jobs created ahead and never read: aborted and deleted (best effort, never throws)
    await prestarted?.release();
    deps.signal?.removeEventListener('abort', onOuterAbort);
    if (!opts.dryRun)
      await store
        .release()
        .catch((e: Error) =>
          logger.warn('could not release the run lock; it expires with its lease', { error: e.message }),
        );
    await fence?.close().catch(() => undefined);
    // a load started early and never awaited (a run that failed first) ends before the run returns
    await earlyLoad;
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** The promise's outcome as a value: it never rejects (no unhandled rejection while nobody awaits it). */
function settled<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function unsettled<T>(s: Settled<T>): T {
  if (s.ok) return s.value;
  throw s.error;
}

/** The stage result as a Kafka record, or its dead letter. A value the schema refuses is a dead letter too. */
function encodeOr<T>(
  res: StageResult<T>,
  dlqTopic: string,
  object: 'User' | 'LoginHistory',
  row: Record<string, string>,
  run: RunIdentity,
  encode: (record: T) => OutRecord | null,
  counts: Counts,
): OutRecord | null {
  let error: RecordError;
  if (res.ok) {
    try {
      return encode(res.record);
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      error = err;
    }
  } else error = res.error;
  counts.deadLettered++;
  return deadLetter(dlqTopic, object, row, error, run, new Date());
}

function cursorOf(committed: RunState | null): LoginCursor | null {
  if (!committed?.loginHistoryWatermark) return null;
  const packed = committed.loginHistoryRecentIdsPacked;
  return {
    watermark: new Date(committed.loginHistoryWatermark).toISOString(),
    recentIds: packed ? unpackIds(Buffer.from(packed)) : (committed.loginHistoryRecentIds ?? []),
  };
}

/** The state record of a finished run. `cursor`: where the next run reads LoginHistory from. */
function toState(base: RunState, s: RunSummary, cursor: LoginCursor | null, endedAt: number): RunState {
  return {
    ...base,
    status: s.status,
    endedAt,
    usersExtracted: s.usersExtracted,
    usersPublished: s.usersPublished,
    usersUnchanged: s.usersUnchanged,
    usersTombstoned: s.usersTombstoned,
    loginEventsPublished: s.loginEventsPublished,
    deadLettered: s.deadLettered,
    loginHistoryWatermark: cursor ? Date.parse(cursor.watermark) : null,
    loginHistoryRecentIds: [],
    loginHistoryRecentIdsPacked: cursor && cursor.recentIds.length > 0 ? packIds(cursor.recentIds) : null,
    apiRequestsUsed: s.apiUsage?.used ?? null,
    apiRequestsMax: s.apiUsage?.max ?? null,
    message: s.error ? scrubSecrets(`${s.error.code}: ${s.error.message}`) : null,
    host: null,
    pid: null,
    heartbeatAt: null,
  };
}

/** Fields no longer readable: the run stops before publishing anything, naming them and the way through. */
function fieldsLost(lost: string[], missing: { object: string; field: string; reason: string }[]): FatalError {
  const why = lost.map((f) => {
    const m = missing.find((x) => `${x.object}.${x.field}` === f);
    return m ? `${f} (${m.reason})` : f;
  });
  return new FatalError(
    'FIELDS_LOST',
    `The last run read ${why.join(', ')}, which this run cannot read: publishing now would set ` +
      `${lost.length === 1 ? 'it' : 'them'} to null for every user. ` +
      `Nothing was published or deleted. Usually the integration user lost a permission or ` +
      `field-level access: restore it. ` +
      `If the field is gone on purpose, run once with --allow-field-loss.`,
  );
}

/** A run that reached another org than the one the connector is bound to: it stops, naming both. */
export function orgMismatch(connector: string, bound: string, reached: string, evidence: string): FatalError {
  return new FatalError(
    'ORG_MISMATCH',
    `Connector "${connector}" is bound to Salesforce org ${bound} (${evidence}), but this run ` +
      `reached org ${reached}. ` +
      `Nothing was published or deleted. If the config points at the wrong org, fix salesforceUrl ` +
      `and the credentials. ` +
      `To follow org ${reached} on purpose, either give the connector a new connectorName (org ` +
      `${bound}'s users stay as they are), ` +
      `or run \`connector reset --config <file> --org ${reached}\` to re-bind this connector to org ${reached} ` +
      `(org ${bound}'s users are then neither updated nor deleted by it).`,
  );
}

/** The stages of a run, built once from the mapping. */
function buildStages(catalog: Catalog) {
  const user = createUserStage(catalog.userMapping);
  const login = createLoginEventStage(catalog.loginHistoryMapping);
  // in place: the users phase merges into the record the user stage just built, and drops it once encoded
  const merge = createLatestLoginAssigner(catalog.userMapping, catalog.loginHistoryMapping);
  // The login fields the merge reads: only these are kept per user, not whole events.
  const deviceFields = [
    ...new Set(
      catalog.userMapping.rows
        .filter((r) => r.sourceObject === 'LoginHistory')
        .map(
          (r) =>
            catalog.loginHistoryMapping.rows.find(
              (l) => l.sourceObject === 'LoginHistory' && l.sourceField === r.sourceField,
            )?.target,
        )
        .filter((f): f is string => f !== undefined && !['id', 'userId', 'loginTime', 'status'].includes(f)),
    ),
  ];
  const fingerprint = mappingFingerprint([catalog.userMapping, catalog.schemas.userValue]);
  return { user, login, merge, devices: new DeviceCodec(deviceFields), fingerprint };
}

/**
 * The run's error for its summary, the failed-runs metric (by code) and the logs. kafkajs's own
 * errors (a broker away longer than the retries, a partition without a leader, a refused request)
 * are KAFKA_ERROR with the broker's error type: an outage or a refusal to look at, not a bug of
 * ours (they were INTERNAL). Anything else that is not a ConnectorError is INTERNAL.
 */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof ConnectorError) return { code: err.code, message: err.message };
  const e = err as { name?: unknown };
  if (err instanceof Error && typeof e.name === 'string' && e.name.startsWith('KafkaJS')) {
    // kafkajs's retrier wraps whatever its attempt threw, our own code's errors too (the encoder,
    // partitioner and codecs run inside its producer): those are ours, not Kafka's
    let root: unknown = err;
    for (let i = 0; i < 5 && root instanceof Error; i++) {
      if (root instanceof ConnectorError || !root.name.startsWith('KafkaJS')) return describeError(root);
      root = root.cause === root ? undefined : root.cause;
    }
    // kafkajs's retrier wraps the broker's error (its cause) in KafkaJSNumberOfRetriesExceeded
    let typed = err as { type?: unknown; cause?: unknown } | undefined;
    for (let i = 0; i < 5 && typed && typeof typed.type !== 'string'; i++) typed = typed.cause as never;
    const type = typeof typed?.type === 'string' ? `${typed.type}: ` : '';
    return { code: 'KAFKA_ERROR', message: `Kafka refused or did not answer a request (${type}${err.message})` };
  }
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}
