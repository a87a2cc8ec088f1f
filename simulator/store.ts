/**
 * The org's live state: generated data (seed, counts) plus every change made since start —
 * field overrides, deletions, added users and logins — and a logical clock. Query jobs take a
 * snapshot, so their results stay consistent while tests keep changing the org.
 */
import { SimUserState } from './api';
import { LoginGenContext } from './gen-logins';
import { iso, UserGenContext } from './gen-users';
import { indexOfId, KeyPrefix, makeId, orgIdSpace } from './ids';
import { OrgTables } from './org-tables';
import { FieldDef, ObjectDef, Schema } from './schema';
import { canonicalDatetime } from './soql-values';
import { DataSource, Table, Value } from './table';
import { Changes, LoginsTable, UserLoginTable, UsersTable } from './tables';
import { AssignmentObject, LicenceChanges, LicenceOrg, LicenceStore, licenceTables } from './licence-tables';

type FieldValues = Record<string, string | boolean | number | null>;

/** One consistent view of every object, for a query job or a direct read. */
export class OrgData implements DataSource {
  private readonly tables: Map<string, Table>;
  readonly users: UsersTable;
  readonly logins: LoginsTable;

  constructor(
    userCtx: UserGenContext,
    loginCtx: LoginGenContext,
    org: OrgTables,
    changes: Changes,
    readonly nowMs: number,
    licence: { org: LicenceOrg; changes: LicenceChanges; reuse?: ReadonlyMap<string, Table> },
  ) {
    this.users = new UsersTable(userCtx, changes);
    this.logins = new LoginsTable(loginCtx, changes.addedLogins);
    this.licenceTables = licence.reuse ?? licenceTables(userCtx.seed, licence.org, org, this.users, licence.changes);
    this.tables = new Map<string, Table>([
      ['User', this.users],
      ['LoginHistory', this.logins],
      ['UserLogin', new UserLoginTable(this.users, userCtx.apiUserId)],
      ['UserRole', org.roles],
      ['Profile', org.profiles],
      ...this.licenceTables,
    ]);
  }

  /** The licence tables of this snapshot (a later snapshot reuses them while their inputs stay the same). */
  readonly licenceTables: ReadonlyMap<string, Table>;

  table(name: string): Table {
    const t = this.tables.get(name);
    if (!t) throw new Error(`no table ${name}`);
    return t;
  }
}

/** Kind of a live user, as the connector's "User status" option sees it. */
export function userState(isActive: Value, isFrozen: Value): SimUserState {
  if (isActive !== true) return 'inactive';
  return isFrozen === true ? 'frozen' : 'active';
}

/** The User fields the licence tables are built from (licence-tables.ts; a user's existence besides). */
const LICENCE_INPUTS = new Set(['Id', 'ProfileId', 'CreatedDate', 'IsActive']);

export class Store {
  private userCount: number;
  private readonly overrides = new Map<number, Readonly<Record<string, Value>>>();
  private readonly deleted = new Set<number>();
  private readonly addedLogins: { userId: string; timeMs: number }[] = [];
  /** Logical clock: starts at `now`, one second per change, so changes are ordered in time. */
  private clockMs: number;
  private cached: OrgData | null = null;
  /**
   * The licence tables of the last snapshot, while nothing they are built from changed (a user's
   * existence, profile, creation or activity; an assignment; a licence total): the assignment
   * tables are built from every user (1.5M rows at 1M users), and a change of another field (a
   * Title: bench/sim-process.ts's routine changes) would otherwise rebuild them for the next job,
   * where Salesforce keeps its tables. Same rows either way (sim-job-processing.test.ts).
   */
  private licenceCache: ReadonlyMap<string, Table> | null = null;
  private readonly licences: LicenceStore;

  constructor(
    private readonly userCtx: UserGenContext,
    private readonly loginCtx: LoginGenContext,
    private readonly org: OrgTables,
    private readonly userObject: ObjectDef,
    private readonly schema: Schema,
    private readonly licenceOrg: LicenceOrg,
  ) {
    this.userCount = loginCtx.users; // the generated users; added ones follow them
    this.clockMs = userCtx.nowMs;
    this.licences = new LicenceStore(userCtx.seed, licenceOrg);
  }

  /** The current state; the same object until the next change. */
  snapshot(): OrgData {
    if (!this.cached) {
      const changes: Changes = {
        userCount: this.userCount,
        overrides: new Map(this.overrides),
        deleted: new Set(this.deleted),
        addedLogins: this.addedLogins.slice(),
      };
      const licence = {
        org: this.licenceOrg,
        changes: this.licences.changes(),
        ...(this.licenceCache ? { reuse: this.licenceCache } : {}),
      };
      this.cached = new OrgData(this.userCtx, this.loginCtx, this.org, changes, this.clockMs, licence);
      this.licenceCache = this.cached.licenceTables;
    }
    return this.cached;
  }

  /** A snapshot of the current state with its licence tables built anew (tests: the reused ones equal these). */
  freshSnapshot(): OrgData {
    const saved = this.licenceCache;
    this.licenceCache = null;
    this.cached = null;
    try {
      return this.snapshot();
    } finally {
      this.licenceCache = saved;
      this.cached = null;
    }
  }

  /** The org's id space: its record Ids are its own. */
  private get space(): string {
    return orgIdSpace(this.userCtx.seed);
  }

  now(): number {
    return this.clockMs;
  }

  /** A change: the clock moves, the next read takes a new snapshot. `licence`: the licence tables' inputs changed. */
  private tick(licence = true): number {
    this.clockMs += 1000;
    this.cached = null;
    if (licence) this.licenceCache = null;
    return this.clockMs;
  }

  private livePos(id: string): number {
    const pos = indexOfId(KeyPrefix.User, id, this.space);
    if (pos < 0 || pos >= this.userCount || this.deleted.has(pos)) throw new Error(`simulator: no live user ${id}`);
    return pos;
  }

  private override(pos: number, values: Record<string, Value>): void {
    this.overrides.set(pos, { ...this.overrides.get(pos), ...values });
  }

  /** Validates and converts caller values to the stored representation of each field's type. */
  private coerce(fields: FieldValues): Record<string, Value> {
    const out: Record<string, Value> = {};
    for (const [name, v] of Object.entries(fields)) {
      const f = this.schema.field(this.userObject, name, Infinity);
      if (!f) throw new Error(`simulator: User has no field ${name}`);
      if (f.type === 'id' || f.type === 'address' || f.name === 'Name')
        throw new Error(`simulator: User.${f.name} cannot be set (set its components)`);
      out[f.name] = coerceValue(f, v);
    }
    return out;
  }

  updateUser(id: string, fields: FieldValues): void {
    const pos = this.livePos(id);
    const values = this.coerce(fields);
    const profileBefore = this.snapshot().users.row(pos)?.get('ProfileId');
    // after the read above: the tick drops the cached snapshot (and the licence tables when the
    // change is of a field they are built from)
    const t = iso(this.tick(Object.keys(values).some((f) => LICENCE_INPUTS.has(f))));
    // A new profile updates the user's assignment of the profile's own permission set (one row, its
    // PermissionSetId changes): Salesforce moves that row's SystemModstamp (licence-tables.ts).
    const profileSet: Record<string, Value> =
      'ProfileId' in values && values.ProfileId !== profileBefore ? { __ProfileAssignmentModstamp: t } : {};
    this.override(pos, {
      LastModifiedDate: t,
      SystemModstamp: t,
      LastModifiedById: this.userCtx.apiUserId,
      ...values,
      ...profileSet,
    });
  }

  setUserState(id: string, state: SimUserState): void {
    const pos = this.livePos(id);
    const flags = { active: [true, false], inactive: [false, false], frozen: [true, true] }[state];
    if (!flags) throw new Error(`simulator: unknown user state ${state}`);
    const wasActive = this.snapshot().users.row(pos)?.get('IsActive') === true;
    const t = iso(this.tick()); // after the read above: the tick drops the cached snapshot
    // Freezing lives on UserLogin: the User row (and its SystemModstamp) changes only with IsActive.
    const userRow: Record<string, Value> =
      wasActive === flags[0]
        ? {}
        : { LastModifiedDate: t, SystemModstamp: t, LastModifiedById: this.userCtx.apiUserId };
    this.override(pos, { IsActive: flags[0], __IsFrozen: flags[1], __UserLoginModified: t, ...userRow });
  }

  /** Renames a role: the UserRole row changes, no User row does (their SystemModstamp stays). */
  renameRole(id: string, name: string): void {
    const t = iso(this.tick());
    const roles = this.org.roles.withUpdate(id, { Name: name, LastModifiedDate: t, SystemModstamp: t });
    if (!roles) throw new Error(`simulator: no role ${id}`);
    // a new table, not a change in place: a job created before reads the snapshot of its creation
    this.org.roles = roles;
  }

  deleteUser(id: string): void {
    const pos = this.livePos(id);
    this.tick();
    this.deleted.add(pos);
  }

  addUser(fields: FieldValues = {}): string {
    const values = this.coerce(fields);
    const t = iso(this.tick());
    const pos = this.userCount++;
    this.overrides.set(pos, {
      IsActive: true,
      __IsFrozen: false,
      __IsPasswordLocked: false,
      __UserLoginModified: t,
      CreatedDate: t,
      LastModifiedDate: t,
      SystemModstamp: t,
      LastLoginDate: null,
      LastPasswordChangeDate: t,
      CreatedById: this.userCtx.apiUserId,
      LastModifiedById: this.userCtx.apiUserId,
      ...values,
    });
    return makeId(KeyPrefix.User, pos, this.space);
  }

  addLogins(count: number, opts: { at?: string; userId?: string } = {}): string[] {
    let timeMs: number;
    if (opts.at !== undefined) {
      const c = canonicalDatetime(opts.at);
      if (c === null) throw new Error(`simulator: bad datetime ${opts.at}`);
      timeMs = Math.floor(Date.parse(c) / 1000) * 1000;
      this.tick(false);
    } else {
      timeMs = this.tick(false);
    }
    const ids: string[] = [];
    for (let k = 0; k < count; k++) {
      const userId = opts.userId ?? this.someLiveUser(this.addedLogins.length);
      const pos = this.loginCtx.count + this.addedLogins.length;
      this.addedLogins.push({ userId, timeMs });
      ids.push(makeId(KeyPrefix.LoginHistory, pos, this.space));
    }
    return ids;
  }

  private someLiveUser(k: number): string {
    for (let n = 0; n < this.userCount; n++) {
      const pos = (k + n) % this.userCount;
      if (!this.deleted.has(pos)) return makeId(KeyPrefix.User, pos, this.space);
    }
    throw new Error('simulator: no live user to log in');
  }

  /** Assigns a permission set licence or permission set to a live user; returns the assignment's Id. */
  assign(object: AssignmentObject, userId: string, targetId: string): string {
    this.livePos(userId);
    const current = this.snapshot().table(object);
    const at = this.tick();
    return this.licences.assign(object, userId, targetId, at, current);
  }

  unassign(object: AssignmentObject, id: string): void {
    const current = this.snapshot().table(object);
    this.licences.unassign(id, current);
    this.tick();
  }

  setLicenseTotal(key: string, total: number): void {
    this.licences.setTotal(key, total, this.org);
    this.tick();
  }

  userIds(states: SimUserState[] = ['active', 'inactive', 'frozen']): string[] {
    const users = this.snapshot().users;
    const want = new Set(states);
    const out: string[] = [];
    for (let pos = 0; pos < users.size(); pos++) {
      const r = users.row(pos);
      if (r && want.has(userState(r.get('IsActive'), r.get('__IsFrozen'))))
        out.push(makeId(KeyPrefix.User, pos, this.space));
    }
    return out;
  }

  loginCount(sinceIso?: string): number {
    const logins = this.snapshot().logins;
    if (sinceIso === undefined) return logins.size();
    const c = canonicalDatetime(sinceIso);
    if (c === null) throw new Error(`simulator: bad datetime ${sinceIso}`);
    const since = Date.parse(c);
    // generated events are in time order: binary search the first one at or after `since`
    let lo = 0;
    let hi = this.loginCtx.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (logins.timeAt(mid) < since) lo = mid + 1;
      else hi = mid;
    }
    return this.loginCtx.count - lo + this.addedLogins.filter((a) => a.timeMs >= since).length;
  }
}

function coerceValue(f: FieldDef, v: string | boolean | number | null): Value {
  if (v === null) return null;
  const bad = (): Error => new Error(`simulator: ${JSON.stringify(v)} is not a valid ${f.type} for User.${f.name}`);
  switch (f.type) {
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      throw bad();
    case 'double':
    case 'int': {
      const n = typeof v === 'number' ? v : Number(v);
      if (!Number.isFinite(n) || (f.type === 'int' && !Number.isInteger(n))) throw bad();
      return n;
    }
    case 'datetime': {
      const c = typeof v === 'string' ? canonicalDatetime(v) : null;
      if (c === null) throw bad();
      return c;
    }
    case 'date':
      if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw bad();
      return v;
    default:
      return String(v);
  }
}
