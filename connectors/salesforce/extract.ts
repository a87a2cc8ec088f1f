/**
 * The Salesforce extractor: the connector's source. Lifecycle: connect → users() / logins() →
 * close. Each extraction streams raw rows (Salesforce field name → CSV string) and settles a
 * `done` promise whose result is the only thing that may justify deletions downstream: it
 * resolves (complete: true) only for a verified, complete extraction (see integrity.ts).
 */
import { createHash } from 'node:crypto';
import { FatalError } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import { sleep } from '../../kernel/retry';
import type { OrgAccess } from './access';
import { probeAccess, statusFilterRefusal, statusNeedsUserLogin } from './access';
import { authWarnings, SalesforceAuth } from './auth';
import { proxiedFetch, proxyRoute } from './proxy';
import { checkCustomFields, hashRow, isExcluded } from './field-choice';
import type { ApiUsage } from './budget';
import { ApiBudget } from './budget';
import type { Clock, JobInfo } from './bulk-job';
import { BulkJobs } from './bulk-job';
import { PrestartedJobs, type JobPrestart } from './job-prestart';
import type { ExtractorConfig, ExtractorOptions, UserStatus } from './config';
import { parseExtractorConfig } from './config';
import type { Row } from './csv-page';
import type { Describer, SObjectDescribe } from './describe';
import { selectFields } from './describe';
import { FROZEN_KEY, PASSWORD_LOCKED_KEY, REQUIRED_LOGIN_FIELDS, REQUIRED_USER_FIELDS } from './fields';
import type { FetchFn } from './http';
import { dataPath, SalesforceApiError, SalesforceHttp } from './http';
import type { JobReport } from './integrity';
import { verifyJob } from './integrity';
import type { LoginCursor } from './logins';
import { loginStart, LoginTracker } from './logins';
import { jobResults } from './results';
import type { Extraction } from './row-stream';
import { toExtraction } from './row-stream';
import {
  buildChangedUserQuery,
  buildLoginQuery,
  buildStreamByIdQueries,
  buildStreamQuery,
  buildUserByIdQueries,
  buildUserIdQuery,
  buildUserQuery,
  loginUserWhere,
  USER_ID_SNAPSHOT_FIELDS,
  USER_LOGIN_FLAGS_QUERY,
} from './soql';
import { restQuery } from './rest-query';
import { userFilterConditions } from './user-filter';
import { filterUser, UserLoginFlags } from './user-status';

export interface ExtractorDeps {
  logger: Logger;
  /** HTTP transport for REST and Bulk calls (default: global fetch). Login goes through jsforce. */
  fetch?: FetchFn;
  clock?: Clock;
  /** Random source for retry jitter, in [0, 1). */
  random?: () => number;
}

export interface ConnectInfo {
  instanceUrl: string;
  /** 18-char organization Id of the org logged in to. */
  orgId: string;
  /** Columns the user and login queries will ask for (after describe). */
  userFields: string[];
  loginFields: string[];
  /** Wanted fields this org lacks, with the reason (each also logged once as a warning). */
  missingFields: { object: string; field: string; reason: string }[];
  /** The API version used: the configured one, or the org's newest when it serves an older one. */
  apiVersion: string;
  /** What the integration user may read, and what is off because of it (access.ts). */
  features: OrgAccess;
  /** SOQL conditions on User from userFilter, checked against describe (empty: no filter). */
  userFilters: string[];
  /** User fields the config excludes (fields.exclude): never read, on purpose. */
  excludedFields: string[];
  /** How routine runs read users (config usersFullScanEvery, salesforceTuning.usersOverlapMs), and a
   *  digest of what decides a user's row (fields, statuses, filters, hashed fields and salt): when it
   *  differs from the last run's, rows read incrementally would not compare with the published ones. */
  usersRead: { fullScanEveryMs: number; overlapMs: number; shape: string };
  /** How routine runs read the declared snapshot streams declared incremental (config streamsFullScanEvery). */
  streamsRead: { fullScanEveryMs: number };
}

export interface ExtractionResult {
  /** Always true: an incomplete extraction rejects instead. */
  complete: true;
  object: 'User' | 'LoginHistory';
  /** Keys of every emitted row. */
  fields: string[];
  /** Every query job of this extraction, verified. */
  jobs: JobReport[];
  /** Rows read from the main query job (= its numberRecordsProcessed). */
  rowsRead: number;
  rowsEmitted: number;
  /** Latest org-wide usage reported by Sforce-Limit-Info (null if no response carried it). */
  apiUsage: ApiUsage | null;
  /** Calls this extractor has made so far (retries included). */
  apiCalls: number;
  startedAt: Date;
  finishedAt: Date;
}

export interface UsersResult extends ExtractionResult {
  object: 'User';
  statuses: UserStatus[];
  frozenUsers: number;
  passwordLockedUsers: number;
  /** Row keys whose value is unknown in this run (UserLogin not readable): absent from every row,
   *  so a consumer must keep what it had rather than overwrite it with null or false. */
  unknownFields: string[];
  /** The highest User.SystemModstamp read (ISO, Salesforce's own value), capped at the job's creation,
   *  null when none was read or the field is not queried: the watermark of the next incremental read,
   *  never our clock. */
  maxSystemModstamp: string | null;
}

/**
 * The reads of an incremental users run, all classified with ONE UserLogin read (taken by
 * userReads()), so a user frozen between two of them cannot be selected by one and not the other.
 */
export interface UserReads {
  /** Users UserLogin flags, as read once for every extraction below. */
  frozenUsers: number;
  passwordLockedUsers: number;
  /** Every selected user's Id (rows: Id, IsActive and the UserLogin flag keys), verified complete:
   *  the only base deletions may be computed from in an incremental run. */
  ids(): Extraction<UsersResult>;
  /** Full rows (as users() emits them) of the selected users whose User row changed at or after `since`. */
  changedSince(since: Date): Extraction<UsersResult>;
  /** Full rows of those of these users who are selected, chunked under the SOQL length limit. */
  byIds(ids: readonly string[]): Extraction<UsersResult>;
}

export interface LoginsResult extends ExtractionResult {
  object: 'LoginHistory';
  /** Lower bound queried (LoginTime >= since). */
  since: Date;
  /** New watermark: the highest LoginTime seen (never earlier than the one passed in); null if none yet. */
  watermark: Date | null;
  /** Pass this to the next logins() call (persist it in the run state). */
  cursor: LoginCursor | null;
  /** Events dropped because the previous extraction already emitted them. */
  duplicatesDropped: number;
  /** Why LoginHistory was not read (loginHistory disabled, or not readable): no rows, the cursor
   *  passed in is returned unchanged. Absent when it was read. */
  skipped?: string;
}

/** What a declared stream reads (schemas/streams): the generic extraction. */
export interface StreamRequest {
  /** The object's API name. */
  object: string;
  /** Wanted fields and parent paths (the mapping's); those this org lacks are skipped with a warning. */
  fields: readonly string[];
  /** The key field: required (an org without it is a FatalError). */
  key: string;
  api: 'bulk' | 'rest';
  /** Incremental streams: only rows whose `field` is at or after `from`. */
  since?: { field: string; from: Date } | null;
  /** Only the rows with these Ids (as many statements as the SOQL length limit needs). */
  ids?: readonly string[];
  /** Fields the read must have besides the key (an org without one is a FatalError). */
  require?: readonly string[];
}

export interface StreamResult {
  /** Always true: an incomplete extraction rejects instead. */
  complete: true;
  object: string;
  api: 'bulk' | 'rest';
  /** The columns of every row (describe-confirmed). */
  fields: string[];
  missing: { field: string; reason: string }[];
  rowsRead: number;
  /** Bulk: every query job, verified; REST: none (pages are counted instead). */
  jobs: JobReport[];
  pages: number;
  apiUsage: ApiUsage | null;
  apiCalls: number;
  /** Why the object was not read (not visible to the integration user): no rows. Absent when read. */
  skipped?: string;
}

/**
 * The Bulk queries a run is going to read, in its order (SalesforceExtractor.prestart): each is
 * built exactly as its read builds it, so the read finds its job already created.
 */
export interface PlannedReads {
  /** LoginHistory from this cursor (absent: not planned; a first run's look-back moves with the clock). */
  logins?: LoginCursor;
  /** The users: a full read, or an incremental one's changed rows since `since` and its Id snapshot. */
  users?: { kind: 'full' } | { kind: 'incremental'; since: Date };
  /** The declared streams' reads (REST and by-Id reads are not planned: they are not known ahead). */
  streams?: readonly StreamRequest[];
}

/** The jobs a run created ahead: release() aborts and deletes those never read (no leak). */
export interface Prestarted {
  release(): Promise<void>;
}

export interface SalesforceExtractor {
  /** Logs in and describes User, UserLogin and LoginHistory. Called by users()/logins() if needed. */
  connect(): Promise<ConnectInfo>;
  /** A full snapshot of the users whose status is selected, with UserLogin flags merged in. */
  users(): Extraction<UsersResult>;
  /**
   * The pieces of an incremental users read (Id snapshot, changed rows, rows by Id), after one
   * UserLogin read. Optional: an extractor without it is always read in full.
   */
  userReads?(signal?: AbortSignal): Promise<UserReads>;
  /**
   * LoginHistory since the cursor (or a bare watermark; null = first run: the look-back window).
   * With a cursor, events the previous extraction emitted in the overlap are dropped.
   */
  logins(from: LoginCursor | Date | null): Extraction<LoginsResult>;
  /**
   * Every row of a declared stream's object (or those since a watermark), by Bulk API 2.0 or the
   * REST query API as declared. An object the user cannot see resolves at once with `skipped`.
   * Optional: an extractor without it runs no declared stream (they are skipped, nothing deleted).
   */
  stream?(req: StreamRequest): Extraction<StreamResult>;
  /**
   * Keeps the next Bulk query jobs of these reads created ahead (job-prestart.ts: the first now, each
   * next one as a read takes its own, one after the other in this order), so that Salesforce
   * processes them while the run does other work (issue 15); each read then takes its job instead
   * of creating one. Optional: without it every read creates its job when it starts.
   * Call after connect(); release the handle when the run ends, whatever its outcome.
   */
  prestart?(reads: PlannedReads): Prestarted;
  /** Cancels running extractions (their jobs are aborted and deleted). */
  close(): Promise<void>;
}

const USER_LOGIN_FIELDS = ['UserId', 'IsFrozen', 'IsPasswordLocked'];

/** The status selection of a users read and the UserLogin flags that classify it. */
interface Selection {
  statuses: readonly UserStatus[];
  selected: ReadonlySet<UserStatus>;
  /** UserLogin readable: the flags are known (else absent from every row). */
  known: boolean;
  flags: UserLoginFlags;
  /** The UserLogin job's report (none when not readable). */
  reports: JobReport[];
  startedAt: Date;
}
const OBJECT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export function createExtractor(options: ExtractorOptions, deps: ExtractorDeps): SalesforceExtractor {
  return new Extractor(parseExtractorConfig(options), deps);
}

class Extractor implements SalesforceExtractor {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly auth: SalesforceAuth;
  private readonly budget: ApiBudget;
  private readonly http: SalesforceHttp;
  private readonly jobs: BulkJobs;
  private readonly closing = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private readonly warned = new Set<string>();
  private connecting: Promise<ConnectInfo> | null = null;
  private lastCursor: LoginCursor | null = null;
  /** The jobs runs created ahead and have not released (one run at a time: one set, in practice). */
  private readonly ahead = new Set<PrestartedJobs>();
  /** The describes of the run that announced its reads (prestart), until released: its plan's and its streams'. */
  private runDescribe: Describer | null = null;

  private readonly cfg: ExtractorConfig;

  constructor(cfg: ExtractorConfig, deps: ExtractorDeps) {
    this.cfg = { ...cfg };
    this.logger = deps.logger.child({ component: 'salesforce-extractor' });
    for (const w of authWarnings(cfg.auth)) this.logger.warn(w, { flow: cfg.auth.flow });
    this.clock = deps.clock ?? { now: () => Date.now(), sleep };
    const proxy = proxyRoute(cfg.proxy);
    this.auth = new SalesforceAuth(cfg.loginUrl, cfg.apiVersion, cfg.auth, {
      logger: this.logger,
      proxy,
      clock: this.clock,
      retryAttempts: cfg.retryAttempts,
      retryInitialMs: cfg.retryInitialMs,
    });
    this.budget = new ApiBudget({ reserve: cfg.apiReserve, share: cfg.apiBudgetShare, maxCalls: cfg.apiMaxCalls });
    this.http = new SalesforceHttp({
      auth: this.auth,
      budget: this.budget,
      logger: this.logger,
      fetch: proxiedFetch(proxy, deps.fetch ?? ((input, init) => fetch(input, init))),
      requestTimeoutMs: cfg.requestTimeoutMs,
      retryAttempts: cfg.retryAttempts,
      retryInitialMs: cfg.retryInitialMs,
      random: deps.random,
    });
    this.jobs = new BulkJobs(this.http, this.cfg, this.clock, this.logger);
  }

  connect(): Promise<ConnectInfo> {
    if (!this.connecting) {
      this.connecting = this.doConnect();
      this.connecting.catch(() => (this.connecting = null)); // a failed connect may be tried again
    }
    return this.connecting;
  }

  private async doConnect(): Promise<ConnectInfo> {
    const session = await this.auth.session();
    await this.negotiateVersion();
    const describe = this.describer();
    const features = await probeAccess(describe, this.cfg.loginHistory);
    for (const [name, f] of Object.entries(features)) {
      if (!f.enabled) this.warnOnce(`feature:${name}`, `Salesforce feature off: ${f.reason}`, { feature: name });
    }
    if (features.userLogin.enabled) await selectFields('UserLogin', USER_LOGIN_FIELDS, describe, USER_LOGIN_FIELDS);
    const choice = this.cfg.fields;
    await checkCustomFields(choice.include, describe);
    const userFilters = await userFilterConditions(this.cfg.userFilter, describe);
    const [user, login] = await Promise.all([
      selectFields(
        'User',
        [...this.cfg.userFields, ...choice.include.map((c) => c.name)],
        describe,
        REQUIRED_USER_FIELDS,
      ),
      features.loginHistory.enabled
        ? selectFields('LoginHistory', this.cfg.loginFields, describe, REQUIRED_LOGIN_FIELDS)
        : Promise.resolve({ fields: [], missing: [] }),
    ]);
    // Excluded fields never reach SOQL: they never leave Salesforce.
    user.fields = user.fields.filter((f) => !isExcluded(f, choice.exclude));
    user.missing = user.missing.filter((m) => !isExcluded(m.field, choice.exclude));
    const missingFields = [
      ...user.missing.map((m) => ({ object: 'User', ...m })),
      ...login.missing.map((m) => ({ object: 'LoginHistory', ...m })),
    ];
    for (const m of missingFields) {
      const key = `${m.object}.${m.field}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      this.logger.warn('A mapped Salesforce field is not available in this org; it is skipped', {
        object: m.object,
        field: m.field,
        reason: m.reason,
      });
    }
    return {
      instanceUrl: session.instanceUrl,
      orgId: session.orgId,
      userFields: user.fields,
      loginFields: login.fields,
      missingFields,
      apiVersion: this.cfg.apiVersion,
      features,
      userFilters,
      excludedFields: [...choice.exclude],
      usersRead: {
        fullScanEveryMs: this.cfg.usersFullScanEveryMs,
        overlapMs: this.cfg.usersOverlapMs,
        shape: createHash('sha256')
          .update(
            JSON.stringify({
              fields: user.fields,
              statuses: this.cfg.userStatuses,
              filters: userFilters,
              hash: choice.hash,
              userLogin: features.userLogin.enabled,
              // the salt decides hashed values; only a digest of a digest of it leaves this process
              salt: createHash('sha256')
                .update(this.cfg.hashSalt ?? '')
                .digest('hex'),
            }),
          )
          .digest('hex'),
      },
      streamsRead: { fullScanEveryMs: this.cfg.streamsFullScanEveryMs },
    };
  }

  private warnOnce(key: string, msg: string, fields: Record<string, unknown>): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn(msg, fields);
  }

  /**
   * An org serves the API versions of its release: when the configured one is newer than the
   * org's newest (an org not yet upgraded, or a sandbox preview lagging), use the org's newest,
   * with a warning, as long as it has Bulk API 2.0 query (47.0).
   */
  private async negotiateVersion(): Promise<void> {
    const list = await this.http.json<{ version: string }[]>({
      method: 'GET',
      path: '/services/data',
      repeatable: true,
      what: 'list API versions',
      signal: this.closing.signal,
    });
    const served = (Array.isArray(list) ? list : []).map((v) => Number(v.version)).filter((v) => Number.isFinite(v));
    const wanted = Number(this.cfg.apiVersion);
    if (served.length === 0 || served.includes(wanted)) return;
    const newest = Math.max(...served);
    if (newest >= wanted) return; // a gap in the list: let the calls themselves answer
    if (newest < 47) {
      throw new FatalError(
        'SALESFORCE_API_VERSION',
        `The org serves API versions up to ${newest.toFixed(1)}; the connector needs 47.0 or later ` +
          `(Bulk API 2.0 query)`,
      );
    }
    this.warnOnce(
      'version',
      `The org serves API versions up to ${newest.toFixed(1)}; using it instead of apiVersion ${this.cfg.apiVersion}`,
      { configured: this.cfg.apiVersion, used: newest.toFixed(1) },
    );
    // cfg is this extractor's own copy; BulkJobs and the result reader read apiVersion from it.
    this.cfg.apiVersion = newest.toFixed(1);
  }

  /** Describe over REST, memoized per object; null when the org has no such (visible) object. */
  private describer(): Describer {
    const cache = new Map<string, Promise<SObjectDescribe | null>>();
    return (name) => {
      if (!OBJECT_NAME.test(name)) return Promise.resolve(null);
      if (!cache.has(name)) {
        cache.set(
          name,
          this.http
            .json<SObjectDescribe>({
              method: 'GET',
              path: dataPath(this.cfg.apiVersion, `/sobjects/${name}/describe`),
              repeatable: true,
              what: `describe ${name}`,
              signal: this.closing.signal,
            })
            .catch((err: unknown) => {
              if (
                err instanceof SalesforceApiError &&
                (err.status === 404 || err.errorCode === 'NOT_FOUND' || err.errorCode === 'INVALID_TYPE')
              )
                return null;
              throw err;
            }),
        );
      }
      return cache.get(name)!;
    };
  }

  users(): Extraction<UsersResult> {
    return this.extraction((signal, expect) => this.usersRows(signal, expect));
  }

  async userReads(signal?: AbortSignal): Promise<UserReads> {
    // the UserLogin read stops with the run (a stop, a fence) as well as with close()
    const stop = signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
    const sel = await this.selection(stop);
    const { userFields, userFilters } = await this.connect();
    const { statuses } = sel;
    const run = (soqls: string[], columns: readonly string[]) =>
      this.extraction((signal, expect) => this.selectedUsers(sel, soqls, columns, signal, expect));
    return {
      frozenUsers: sel.flags.frozen.size,
      passwordLockedUsers: sel.flags.passwordLocked.size,
      ids: () => run([buildUserIdQuery(statuses, userFilters)], USER_ID_SNAPSHOT_FIELDS),
      changedSince: (since) => run([buildChangedUserQuery(userFields, statuses, userFilters, since)], userFields),
      byIds: (ids) => run(buildUserByIdQueries(userFields, statuses, userFilters, ids), userFields),
    };
  }

  logins(from: LoginCursor | Date | null): Extraction<LoginsResult> {
    return this.extraction((signal, expect) => this.loginRows(from, signal, expect));
  }

  prestart(reads: PlannedReads): Prestarted {
    // the plan and the streams' reads of this run share their describes: a plan costs no call of its own
    const describe = this.describer();
    this.runDescribe = describe;
    const ahead = new PrestartedJobs(this.jobs, this.logger);
    this.ahead.add(ahead);
    const started = this.plannedJobs(reads).then(
      (planned) => ahead.start(planned),
      (err: unknown) =>
        this.logger.warn('could not plan the query jobs ahead; each read creates its own', {
          error: (err as Error).message,
        }),
    );
    return {
      release: async () => {
        // released first: a plan still being made (describe) creates nothing once it is done
        await ahead.release();
        await started;
        this.ahead.delete(ahead);
        if (this.runDescribe === describe) this.runDescribe = null;
      },
    };
  }

  /** The SOQL statements of these reads, in order, built by the very functions their reads use. */
  private async plannedJobs(reads: PlannedReads): Promise<JobPrestart[]> {
    const { features, loginFields, userFields, userFilters } = await this.connect();
    const statuses = this.cfg.userStatuses;
    const userLogin: JobPrestart = { soql: USER_LOGIN_FLAGS_QUERY, object: 'UserLogin' };
    const out: JobPrestart[] = [];
    // LoginHistory's snapshot comes first, as its read does: a login read is then of a user the
    // users' later snapshots hold (the latest device of a new user is not lost). When its statement
    // is not known ahead (a first run's look-back moves with the clock, as does a watermark in the
    // future), nothing is created ahead: a job created later than those after it would invert them.
    if (features.loginHistory.enabled && (!reads.logins || Date.parse(reads.logins.watermark) > this.clock.now()))
      return [];
    if (reads.logins && features.loginHistory.enabled) {
      // as loginRows: the UserLogin read when the selection needs it, then LoginHistory
      if (statusNeedsUserLogin(statuses) && features.userLogin.enabled) out.push(userLogin);
      const since = loginStart(
        new Date(reads.logins.watermark),
        this.cfg.loginOverlapMs,
        this.cfg.loginLookbackDays,
        this.clock.now(),
      );
      const soql = buildLoginQuery(loginFields, since, loginUserWhere(statuses, userFilters));
      out.push({ soql, object: 'LoginHistory' });
    }
    const known = features.userLogin.enabled;
    if (reads.users && (known || !statusNeedsUserLogin(statuses))) {
      // as selection(), then usersRows() or userReads()' changedSince() and ids()
      if (known) out.push(userLogin);
      if (reads.users.kind === 'full')
        out.push({ soql: buildUserQuery(userFields, statuses, userFilters), object: 'User' });
      else {
        const changed = buildChangedUserQuery(userFields, statuses, userFilters, reads.users.since);
        out.push({ soql: changed, object: 'User' });
        out.push({ soql: buildUserIdQuery(statuses, userFilters), object: 'User' });
      }
    }
    const describe = this.runDescribe ?? this.describer();
    for (const req of reads.streams ?? []) {
      if (req.api !== 'bulk' || req.ids) continue;
      const plan = await this.streamStatements(req, describe);
      if (plan !== null) out.push(...plan.statements.map((soql) => ({ soql, object: req.object })));
    }
    return out;
  }

  /** A stream read's fields and statements (describe-confirmed); null when the object is not readable. */
  private async streamStatements(
    req: StreamRequest,
    describe: Describer,
  ): Promise<{ fields: string[]; missing: StreamResult['missing']; statements: string[] } | null> {
    const d = await describe(req.object);
    if (!d || d.queryable === false) return null;
    const required = [req.key, ...(req.since ? [req.since.field] : []), ...(req.require ?? [])];
    const { fields, missing } = await selectFields(req.object, req.fields, describe, required);
    const where = req.since
      ? { field: fields.find((f) => f.toLowerCase() === req.since!.field.toLowerCase())!, from: req.since.from }
      : null;
    const statements = req.ids
      ? buildStreamByIdQueries(req.object, fields, req.ids)
      : [buildStreamQuery(req.object, fields, where)];
    return { fields, missing, statements };
  }

  stream(req: StreamRequest): Extraction<StreamResult> {
    return this.extraction((signal) => this.streamRows(req, signal));
  }

  private async *streamRows(req: StreamRequest, signal: AbortSignal): AsyncGenerator<Row[], StreamResult, undefined> {
    await this.connect();
    const describe = this.runDescribe ?? this.describer();
    const base = (
      fields: string[],
      missing: StreamResult['missing'],
      rowsRead: number,
      jobs: JobReport[],
      pages: number,
    ) => ({
      complete: true as const,
      object: req.object,
      api: req.api,
      fields,
      missing,
      rowsRead,
      jobs,
      pages,
      apiUsage: this.budget.usage(),
      apiCalls: this.budget.callsMade(),
    });
    if (req.ids && req.since) {
      // one or the other: a read by Id is not bounded by a watermark (and would drop it silently)
      throw new FatalError('STREAM_READ_INVALID', `${req.object}: a read by Id takes no 'since' bound`);
    }
    const planned = await this.streamStatements(req, describe);
    if (planned === null) {
      return {
        ...base([], [], 0, [], 0),
        skipped: `${req.object} is not visible or not queryable for the integration user`,
      };
    }
    const { fields, missing, statements } = planned;
    for (const m of missing) {
      this.warnOnce(
        `${req.object}.${m.field}`,
        'A mapped Salesforce field is not available in this org; it is skipped',
        { object: req.object, ...m },
      );
    }
    let rowsRead = 0;
    let pages = 0;
    const jobs: JobReport[] = [];
    for (const soql of statements) {
      if (req.api === 'rest') {
        const report = yield* restQuery(this.http, this.cfg.apiVersion, req.object, soql, fields, signal);
        this.logger.info('REST query read and verified', { ...report });
        rowsRead += report.rowsRead;
        pages += report.pages;
      } else {
        const report = yield* this.runJob(req.object, soql, fields, jobs, signal);
        rowsRead += report.rowsRead;
        pages += report.pages;
      }
    }
    return base(fields, missing, rowsRead, jobs, pages);
  }

  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.running]);
    // jobs created ahead and never read: aborted and deleted, as the runs' own
    await Promise.allSettled([...this.ahead].map((a) => a.release()));
    this.ahead.clear();
  }

  /** Wires one extraction to its own AbortSignal (also fired by close()) and tracks it for close(). */
  private extraction<R>(
    make: (signal: AbortSignal, expect: (rows: number) => void) => AsyncGenerator<Row[], R, undefined>,
  ): Extraction<R> {
    const controller = new AbortController();
    const onClose = () => controller.abort();
    this.closing.signal.addEventListener('abort', onClose, { once: true });
    let expected: number | undefined;
    // The main job's record count, once it is JobComplete: progress bars know their total early.
    const gen = make(controller.signal, (rows) => (expected = rows));
    const ex: Extraction<R> = { ...toExtraction(gen, controller), expectedRows: () => expected };
    const tracked = ex.done.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(tracked);
    void tracked.then(() => {
      this.running.delete(tracked);
      this.closing.signal.removeEventListener('abort', onClose);
    });
    return ex;
  }

  /** Creates a query job, waits for it, streams and verifies its results; always disposes the job. */
  private async *runJob(
    object: string,
    soql: string,
    columns: readonly string[],
    reports: JobReport[],
    signal: AbortSignal,
    expect?: (rows: number) => void,
  ): AsyncGenerator<Row[], JobReport, undefined> {
    if (signal.aborted) throw new FatalError('EXTRACTION_CANCELLED', `${object} extraction cancelled`);
    // the job a run created ahead for this very statement (prestart), else a new one
    const job = (await this.takePrestarted(soql)) ?? (await this.jobs.create(soql, object));
    let finished = false;
    try {
      const info = await this.jobs.waitForCompletion(job.id, object, signal);
      finished = true;
      if (typeof info.numberRecordsProcessed === 'number') expect?.(info.numberRecordsProcessed);
      const summary = yield* jobResults(
        this.http,
        info,
        columns,
        {
          apiVersion: this.cfg.apiVersion,
          pageSize: this.cfg.pageSize,
          parallelPages: this.cfg.parallelPages,
          retryInitialMs: this.cfg.retryInitialMs,
          maxRereads: this.cfg.retryAttempts,
        },
        this.logger,
        signal,
      );
      const report = verifyJob(info, object, summary);
      reports.push(report);
      this.logger.info('Bulk query job read and verified', { ...report });
      return report;
    } finally {
      await this.jobs.dispose(job.id, finished ? 'JobComplete' : undefined);
    }
  }

  private async takePrestarted(soql: string): Promise<JobInfo | null> {
    for (const a of this.ahead) {
      const job = await a.take(soql);
      if (job) return job;
    }
    return null;
  }

  private base(
    object: 'User' | 'LoginHistory',
    fields: string[],
    jobs: JobReport[],
    rowsRead: number,
    rowsEmitted: number,
    startedAt: Date,
  ): ExtractionResult {
    return {
      complete: true,
      object,
      fields,
      jobs,
      rowsRead,
      rowsEmitted,
      apiUsage: this.budget.usage(),
      apiCalls: this.budget.callsMade(),
      startedAt,
      finishedAt: new Date(this.clock.now()),
    };
  }

  private async *usersRows(
    signal: AbortSignal,
    expect?: (rows: number) => void,
  ): AsyncGenerator<Row[], UsersResult, undefined> {
    const sel = await this.selection(signal);
    const { userFields, userFilters } = await this.connect();
    const query = buildUserQuery(userFields, sel.statuses, userFilters);
    return yield* this.selectedUsers(sel, [query], userFields, signal, expect);
  }

  /** The status selection and its UserLogin flags (frozen and password-locked users: few), read and verified. */
  private async selection(signal: AbortSignal): Promise<Selection> {
    const startedAt = new Date(this.clock.now());
    const { features } = await this.connect();
    const statuses = this.cfg.userStatuses;
    const known = features.userLogin.enabled;
    // Without UserLogin a frozen user looks active: refuse a filter that would then be wrong.
    if (!known && statusNeedsUserLogin(statuses)) throw statusFilterRefusal(statuses);
    const flags = new UserLoginFlags();
    const reports: JobReport[] = [];
    if (known) {
      for await (const batch of this.runJob('UserLogin', USER_LOGIN_FLAGS_QUERY, USER_LOGIN_FIELDS, reports, signal)) {
        for (const row of batch) flags.add(row);
      }
    }
    return { statuses, selected: new Set(statuses), known, flags, reports, startedAt };
  }

  /** The users of one or more User query jobs, narrowed server-side as far as SOQL allows and classified
   *  exactly here with the selection's UserLogin flags (merged into each row). */
  private async *selectedUsers(
    sel: Selection,
    soqls: readonly string[],
    columns: readonly string[],
    signal: AbortSignal,
    expect?: (rows: number) => void,
  ): AsyncGenerator<Row[], UsersResult, undefined> {
    const { selected, flags, known } = sel;
    const reports = [...sel.reports];
    const hashed = this.cfg.fields.hash;
    const salt = this.cfg.hashSalt ?? '';
    let emitted = 0;
    let rowsRead = 0;
    // Bulk CSV datetimes have one fixed layout (2026-11-26T15:07:17.000Z): the string order is the time order.
    let maxStamp = '';
    // A job is not one snapshot (Salesforce reads it in chunks): a row read late may carry an edit
    // made after the job started while a row read early missed one, so the watermark never passes
    // the (first) job's creation, on Salesforce's clock: the next read since it finds both.
    let firstJob = '';
    for (const soql of soqls) {
      const job = yield* this.filtered(
        this.runJob('User', soql, columns, reports, signal, soqls.length === 1 ? expect : undefined),
        (row) => {
          const stamp = row.SystemModstamp;
          if (stamp !== undefined && stamp > maxStamp) maxStamp = stamp;
          return hashRow(filterUser(row, selected, flags, known), hashed, salt);
        },
        () => emitted++,
      );
      rowsRead += job.rowsRead;
      if (job.createdDate !== undefined && (firstJob === '' || job.createdDate < firstJob)) firstJob = job.createdDate;
    }
    if (maxStamp !== '' && !Number.isFinite(Date.parse(maxStamp)))
      throw new FatalError('SALESFORCE_BAD_RESPONSE', `User.SystemModstamp ${JSON.stringify(maxStamp)} is no datetime`);
    const flagKeys = [FROZEN_KEY, PASSWORD_LOCKED_KEY];
    return {
      ...this.base('User', known ? [...columns, ...flagKeys] : [...columns], reports, rowsRead, emitted, sel.startedAt),
      object: 'User',
      statuses: [...sel.statuses],
      frozenUsers: flags.frozen.size,
      passwordLockedUsers: flags.passwordLocked.size,
      unknownFields: known ? [] : flagKeys,
      maxSystemModstamp: capped(maxStamp, firstJob),
    };
  }

  private async *loginRows(
    from: LoginCursor | Date | null,
    signal: AbortSignal,
    expect?: (rows: number) => void,
  ): AsyncGenerator<Row[], LoginsResult, undefined> {
    const startedAt = new Date(this.clock.now());
    const { loginFields, features, userFilters } = await this.connect();
    const previous = this.previousLogins(from);
    if (!features.loginHistory.enabled)
      return this.skippedLogins(from, previous, features.loginHistory.reason ?? 'off', startedAt);
    const since = loginStart(
      previous?.watermark ?? null,
      this.cfg.loginOverlapMs,
      this.cfg.loginLookbackDays,
      this.clock.now(),
    );
    const tracker = new LoginTracker(
      previous ? { watermarkMs: previous.watermark.getTime(), ids: previous.ids } : null,
      this.cfg.loginOverlapMs,
      startedAt.getTime(),
    );
    const reports: JobReport[] = [];
    // Login events only of the users this run imports: the semi-join narrows by IsActive and the
    // user filters; telling frozen from active users needs UserLogin, read here when it matters.
    const statuses = this.cfg.userStatuses;
    const frozenOnly = statuses.includes('frozen') && !statuses.includes('active');
    let frozen: Set<string> | null = null;
    if (statusNeedsUserLogin(statuses) && features.userLogin.enabled) {
      const flags = new UserLoginFlags();
      for await (const batch of this.runJob('UserLogin', USER_LOGIN_FLAGS_QUERY, USER_LOGIN_FIELDS, reports, signal))
        for (const row of batch) flags.add(row);
      frozen = flags.frozen;
    }
    const wanted = (row: Row) => frozen === null || frozen.has(row.UserId) === frozenOnly;
    let emitted = 0;
    const query = buildLoginQuery(loginFields, since, loginUserWhere(statuses, userFilters));
    const main = yield* this.filtered(
      this.runJob('LoginHistory', query, loginFields, reports, signal, expect),
      (row) => (tracker.accept(row) && wanted(row) ? row : null),
      () => emitted++,
    );
    const cursor = tracker.cursor();
    this.lastCursor = cursor;
    return {
      ...this.base('LoginHistory', loginFields, reports, main.rowsRead, emitted, startedAt),
      object: 'LoginHistory',
      since,
      watermark: cursor ? new Date(cursor.watermark) : null,
      cursor,
      duplicatesDropped: tracker.duplicatesDropped(),
    };
  }

  /** LoginHistory off: nothing read, the cursor handed back as it came, so no watermark moves. */
  private skippedLogins(
    from: LoginCursor | Date | null,
    previous: { watermark: Date } | null,
    reason: string,
    startedAt: Date,
  ): LoginsResult {
    const cursor =
      from === null ? null : from instanceof Date ? { watermark: from.toISOString(), recentIds: [] } : from;
    return {
      ...this.base('LoginHistory', [], [], 0, 0, startedAt),
      object: 'LoginHistory',
      since: previous?.watermark ?? new Date(startedAt),
      watermark: previous?.watermark ?? null,
      cursor,
      duplicatesDropped: 0,
      skipped: reason,
    };
  }

  /** What the previous extraction emitted in the overlap: from a cursor, or this instance's memory of a bare
   *  watermark. */
  private previousLogins(from: LoginCursor | Date | null): { watermark: Date; ids: Set<string> } | null {
    if (from === null) return null;
    if (from instanceof Date) {
      if (!Number.isFinite(from.getTime()))
        throw new FatalError('CONFIG_INVALID', 'logins(): the watermark is not a valid date');
      const known =
        this.lastCursor && this.lastCursor.watermark === from.toISOString() ? this.lastCursor.recentIds : [];
      return { watermark: from, ids: new Set(known) };
    }
    const watermark = new Date(from.watermark);
    if (!Number.isFinite(watermark.getTime()) || !Array.isArray(from.recentIds)) {
      throw new FatalError(
        'CONFIG_INVALID',
        'logins(): the cursor is not { watermark: ISO datetime, recentIds: string[] }',
      );
    }
    return { watermark, ids: new Set(from.recentIds) };
  }

  /** Applies a keep/drop function to each batch of a job, yielding only non-empty batches. */
  private async *filtered(
    source: AsyncGenerator<Row[], JobReport, undefined>,
    keep: (row: Row) => Row | null,
    onEmit: () => void,
  ): AsyncGenerator<Row[], JobReport, undefined> {
    let ended = false;
    try {
      for (;;) {
        const r = await source.next();
        if (r.done) {
          ended = true;
          return r.value;
        }
        const out: Row[] = [];
        for (const row of r.value) {
          const kept = keep(row);
          if (kept) {
            out.push(kept);
            onEmit();
          }
        }
        if (out.length > 0) yield out;
      }
    } finally {
      // Returned at its yield (the reader left, or a cancel): close the job's generator too, so its
      // finally disposes of the job. Before, only a read still pending when the abort came did that
      // (users.sim.test.ts "stops when the consumer leaves early" once pages came faster, s16).
      if (!ended) await source.return(undefined as unknown as JobReport).catch(() => undefined);
    }
  }
}

/** The highest stamp read, but never later than the job's creation (both Salesforce's clock). */
function capped(maxStamp: string, jobCreated: string): string | null {
  if (maxStamp === '') return null;
  const stamp = new Date(Date.parse(maxStamp)).toISOString();
  return jobCreated !== '' && jobCreated < stamp ? jobCreated : stamp;
}
