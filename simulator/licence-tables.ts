/**
 * Licence data consistent with the org's users:
 *  - UserLicense.UsedLicenses = the active users whose profile carries that licence;
 *  - PermissionSetLicense.UsedLicenses = its assignments;
 *  - every user holds the permission set its profile owns, and some hold further permission
 *    sets, permission set groups and permission set licences (drawn from (seed, user index));
 *  - assignments exist only for live users (a deleted user's are gone with it).
 * Tests change it with assign/unassign and licence totals (LicenceStore). The assignment tables
 * are built when a query first reads them, once per snapshot: O(users) then, nothing before.
 */
import { KeyPrefix, makeId, orgIdSpace } from './ids';
import { OrgTables } from './org-tables';
import { hashInts, unit } from './prng';
import { UsersTable } from './tables';
import { StaticTable, Table, Value } from './table';

type Rec = Record<string, Value>;

/** [MasterLabel, DeveloperName] of the org's permission set licences. */
const PS_LICENSES: [string, string][] = [
  ['Salesforce CPQ License', 'SalesforceCPQ_CPQStandardPerm'],
  ['Sales Cloud Einstein', 'SalesCloudEinsteinPsl'],
  ['Identity Connect', 'IdentityConnect'],
  ['Field Service Scheduling', 'FieldServiceSchedulingPsl'],
  ['CRM Analytics Plus', 'EinsteinAnalyticsPlusPsl'],
  ['Knowledge "Author" Access', 'KnowledgeAuthorPsl'],
];
/** [Name, Label] of the regular permission sets. */
const PERMISSION_SETS: [string, string][] = [
  ['Sales_Ops', 'Sales Operations'],
  ['Support_Console', 'Support Console'],
  ['Reports_Export', 'Export Reports'],
  ['API_Access', 'API Access'],
  ['Knowledge_Author', 'Knowledge Author'],
  ['CPQ_User', 'CPQ User'],
  ['Data_Loader', 'Data Loader, bulk'],
  ['Marketing_Tools', 'Marketing Tools'],
];
/** [DeveloperName, MasterLabel] of the permission set groups. */
const GROUPS: [string, string][] = [
  ['Sales_Team', 'Sales Team'],
  ['Service_Team', 'Service Team'],
];

/** Positions per user in the generated assignment tables (Ids follow user order). */
const PSLA_SLOTS = 2;
const PSA_SLOTS = 3;
/** Index of the first assignment a test adds: after any generated one. */
const ADDED_BASE = 900_000_000;

export type AssignmentObject = 'PermissionSetLicenseAssign' | 'PermissionSetAssignment';

export interface AddedAssignment {
  object: AssignmentObject;
  id: string;
  userId: string;
  /** PermissionSetLicenseId, or PermissionSetId. */
  targetId: string;
  groupId: string | null;
  atMs: number;
}

/** Test-made changes, frozen with each snapshot. */
export interface LicenceChanges {
  totals: ReadonlyMap<string, number>;
  removed: ReadonlySet<string>;
  added: readonly AddedAssignment[];
}

/** The fixed licence records of an org (a few dozen). */
export interface LicenceOrg {
  psLicenses: Rec[];
  groups: Rec[];
  permissionSets: Rec[];
  /** Index in permissionSets of the set owned by profile k (profile-owned sets come first). */
  profileSet: (profileId: string) => Rec | undefined;
  regularSets: Rec[];
  groupSets: Rec[];
}

const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString();

export function buildLicenceOrg(seed: number, nowMs: number, adminId: string, org: OrgTables): LicenceOrg {
  const space = orgIdSpace(seed);
  const stamp = (i: number): Rec => {
    const t = iso(nowMs - (400 + i * 13) * 86400_000);
    return { CreatedDate: t, CreatedById: adminId, LastModifiedDate: t, LastModifiedById: adminId, SystemModstamp: t };
  };
  const psLicenses = PS_LICENSES.map(([label, dev], i): Rec => ({
    Id: makeId(KeyPrefix.PermissionSetLicense, i, space),
    DeveloperName: dev,
    MasterLabel: label,
    PermissionSetLicenseKey: dev,
    Status: 'Active',
    TotalLicenses: 20 + Math.floor(unit(hashInts(seed, 0x951), i) * 200),
    ExpirationDate: i === 1 ? iso(nowMs + 200 * 86400_000).slice(0, 10) : null,
    ...stamp(i),
  }));
  const groups = GROUPS.map(([dev, label], i): Rec => ({
    Id: makeId(KeyPrefix.PermissionSetGroup, i, space),
    DeveloperName: dev,
    MasterLabel: label,
    Status: 'Updated',
    ...stamp(i),
  }));
  const sets: Rec[] = [];
  const byProfile = new Map<string, Rec>();
  for (let p = 0; p < org.profiles.size(); p++) {
    const profileId = String(org.profiles.row(p)!.get('Id'));
    const label = profileId.slice(0, 15);
    const rec: Rec = {
      Id: makeId(KeyPrefix.PermissionSet, sets.length, space),
      Name: `X${label}`,
      Label: label,
      IsOwnedByProfile: true,
      ProfileId: profileId,
      LicenseId: null,
      PermissionSetGroupId: null,
      Type: 'Profile',
      ...stamp(p),
    };
    sets.push(rec);
    byProfile.set(profileId, rec);
  }
  const regularSets = PERMISSION_SETS.map(([name, label], i): Rec => {
    const rec: Rec = {
      Id: makeId(KeyPrefix.PermissionSet, sets.length, space),
      Name: name,
      Label: label,
      IsOwnedByProfile: false,
      ProfileId: null,
      LicenseId: i === 5 ? psLicenses[0].Id : null,
      PermissionSetGroupId: null,
      Type: 'Regular',
      ...stamp(i),
    };
    sets.push(rec);
    return rec;
  });
  const groupSets = groups.map((g, i): Rec => {
    const rec: Rec = {
      Id: makeId(KeyPrefix.PermissionSet, sets.length, space),
      Name: `${String(g.DeveloperName)}_aggregate`,
      Label: String(g.MasterLabel),
      IsOwnedByProfile: false,
      ProfileId: null,
      LicenseId: null,
      PermissionSetGroupId: g.Id,
      Type: 'Group',
      ...stamp(i),
    };
    sets.push(rec);
    return rec;
  });
  return { psLicenses, groups, permissionSets: sets, profileSet: (id) => byProfile.get(id), regularSets, groupSets };
}

/** Users whose rows a slice of a sliced build makes before it yields to the event loop. */
export const BUILD_SLICE = 5_000;

/**
 * A table built on first use from every user's rows, in user order, then the rows a test added
 * (`tail`). At once when a read needs it now (size, row, byId: REST reads, parent lookups), or in
 * slices by prepare(): a query job's processing, during which the server answers other calls, as
 * Salesforce does (a job's creation returns at once). Both make the same rows.
 */
class LazyTable implements Table {
  private built: StaticTable | null = null;
  private building: Promise<void> | null = null;
  constructor(
    readonly objectName: string,
    private readonly users: () => number,
    /** Appends user i's rows. */
    private readonly part: (i: number, out: Rec[]) => void,
    private readonly tail: (out: Rec[]) => void,
    /** Tables this one's rows are computed from: a sliced build builds them first, in slices too. */
    private readonly needs: readonly LazyTable[] = [],
  ) {}
  private get t(): StaticTable {
    if (!this.built) {
      const out: Rec[] = [];
      for (let i = 0, n = this.users(); i < n; i++) this.part(i, out);
      this.tail(out);
      this.built = new StaticTable(this.objectName, out);
    }
    return this.built;
  }
  /**
   * One sliced build at a time, shared by the jobs that wait for it. A job that stops waiting (its
   * `stopped`) leaves it; when none is left the build stops at its next slice (nothing built: a
   * later job builds anew), so an aborted job leaves no work running.
   */
  prepare(stopped: () => boolean = () => false): Promise<void> {
    if (this.built) return Promise.resolve();
    this.waiting.add(stopped);
    this.building ??= this.build().finally(() => {
      this.building = null;
    });
    return this.building.finally(() => this.waiting.delete(stopped));
  }
  private readonly waiting = new Set<() => boolean>();
  /** Nobody waits for the build any more (every waiter stopped). */
  private abandoned(): boolean {
    for (const stopped of this.waiting) if (stopped()) this.waiting.delete(stopped);
    return this.waiting.size === 0;
  }
  private async build(): Promise<void> {
    for (const table of this.needs) {
      await table.prepare(() => this.abandoned());
      if (this.abandoned()) return;
    }
    const out: Rec[] = [];
    const n = this.users();
    for (let i = 0; i < n; i++) {
      if (i % BUILD_SLICE === BUILD_SLICE - 1) {
        await new Promise((r) => setImmediate(r));
        if (this.built) return; // a read built it at once meanwhile
        if (this.abandoned()) return;
      }
      this.part(i, out);
    }
    this.tail(out);
    this.built ??= new StaticTable(this.objectName, out);
  }
  size(): number {
    return this.t.size();
  }
  row(pos: number) {
    return this.t.row(pos);
  }
  byId(id: string) {
    return this.t.byId(id);
  }
  monotoneKey(field: string) {
    return this.t.monotoneKey(field);
  }
}

/**
 * A small table (a few rows) built on first use by one function (it may scan every user: at once);
 * `needs`: the large tables it reads, built first in slices when a job builds it.
 */
function builtOnce(objectName: string, build: () => Rec[], needs: readonly LazyTable[] = []): LazyTable {
  return new LazyTable(
    objectName,
    () => 0,
    () => undefined,
    (out) => out.push(...build()),
    needs,
  );
}

/** The licence tables over one snapshot of the users and of the licence changes. */
export function licenceTables(
  seed: number,
  lic: LicenceOrg,
  org: OrgTables,
  users: UsersTable,
  ch: LicenceChanges,
): Map<string, Table> {
  const space = orgIdSpace(seed);
  const live = (userId: string) => users.byId(userId) !== null;
  const total = (r: Rec) => ch.totals.get(String(r.Id)) ?? r.TotalLicenses;

  const psla = new LazyTable(
    'PermissionSetLicenseAssign',
    () => users.size(),
    (i, out) => {
      const u = users.row(i);
      if (!u) return;
      const h = hashInts(seed, 0x95a, i);
      const first = Math.floor(unit(h, 1) * lic.psLicenses.length);
      const picks = [
        unit(h, 0) < 0.35 ? first : -1,
        unit(h, 2) < 0.12 ? (first + 1 + Math.floor(unit(h, 3) * 5)) % 6 : -1,
      ];
      picks.forEach((p, k) => {
        const id = makeId(KeyPrefix.PermissionSetLicenseAssign, i * PSLA_SLOTS + k, space);
        if (p < 0 || ch.removed.has(id)) return;
        const t = String(u.get('CreatedDate'));
        out.push({
          Id: id,
          AssigneeId: u.get('Id'),
          PermissionSetLicenseId: lic.psLicenses[p].Id,
          IsDeleted: false,
          CreatedDate: t,
          CreatedById: lic.psLicenses[p].CreatedById,
          LastModifiedDate: t,
          LastModifiedById: lic.psLicenses[p].CreatedById,
          SystemModstamp: t,
        });
      });
    },
    (out) => {
      for (const a of ch.added) {
        if (a.object !== 'PermissionSetLicenseAssign' || ch.removed.has(a.id) || !live(a.userId)) continue;
        const t = iso(a.atMs);
        out.push({
          Id: a.id,
          AssigneeId: a.userId,
          PermissionSetLicenseId: a.targetId,
          IsDeleted: false,
          CreatedDate: t,
          CreatedById: lic.psLicenses[0].CreatedById,
          LastModifiedDate: t,
          LastModifiedById: lic.psLicenses[0].CreatedById,
          SystemModstamp: t,
        });
      }
    },
  );

  const psa = new LazyTable(
    'PermissionSetAssignment',
    () => users.size(),
    (i, out) => {
      const u = users.row(i);
      if (!u) return;
      const h = hashInts(seed, 0x95b, i);
      const own = lic.profileSet(String(u.get('ProfileId')));
      const regular = unit(h, 0) < 0.4 ? lic.regularSets[Math.floor(unit(h, 1) * lic.regularSets.length)] : undefined;
      const g = unit(h, 2) < 0.15 ? Math.floor(unit(h, 3) * lic.groups.length) : -1;
      const slots: [Rec | undefined, Value][] = [
        [own, null],
        [regular, null],
        [g < 0 ? undefined : lic.groupSets[g], g < 0 ? null : lic.groups[g].Id],
      ];
      // SystemModstamp as Salesforce keeps it: set when the row is inserted (with the user here), moved
      // by any update of the row; the profile's own-set row is updated when the user's profile changes
      // (store.ts). A renamed PermissionSet (a parent's field) does not move it.
      const created = String(u.get('CreatedDate'));
      const profileMoved = u.get('__ProfileAssignmentModstamp');
      slots.forEach(([set, groupId], k) => {
        const id = makeId(KeyPrefix.PermissionSetAssignment, i * PSA_SLOTS + k, space);
        if (!set || ch.removed.has(id)) return;
        out.push({
          Id: id,
          AssigneeId: u.get('Id'),
          PermissionSetId: set.Id,
          PermissionSetGroupId: groupId,
          IsActive: true,
          ExpirationDate: null,
          SystemModstamp: k === 0 && typeof profileMoved === 'string' ? profileMoved : created,
        });
      });
    },
    (out) => {
      for (const a of ch.added) {
        if (a.object !== 'PermissionSetAssignment' || ch.removed.has(a.id) || !live(a.userId)) continue;
        out.push({
          Id: a.id,
          AssigneeId: a.userId,
          PermissionSetId: a.targetId,
          PermissionSetGroupId: a.groupId,
          IsActive: true,
          ExpirationDate: null,
          SystemModstamp: iso(a.atMs),
        });
      }
    },
  );

  const psLicenses = builtOnce(
    'PermissionSetLicense',
    () => {
      const used = new Map<string, number>();
      for (let p = 0; p < psla.size(); p++) {
        const id = String(psla.row(p)!.get('PermissionSetLicenseId'));
        used.set(id, (used.get(id) ?? 0) + 1);
      }
      return lic.psLicenses.map((r) => ({ ...r, TotalLicenses: total(r), UsedLicenses: used.get(String(r.Id)) ?? 0 }));
    },
    [psla],
  );

  const userLicenses = builtOnce('UserLicense', () => {
    const used = new Map<string, number>();
    for (let i = 0; i < users.size(); i++) {
      const u = users.row(i);
      if (!u || u.get('IsActive') !== true) continue;
      const licence = org.profiles.byId(String(u.get('ProfileId')))?.get('UserLicenseId');
      if (licence) used.set(String(licence), (used.get(String(licence)) ?? 0) + 1);
    }
    const out: Rec[] = [];
    for (let p = 0; p < org.licenses.size(); p++) {
      const row = org.licenses.row(p)!;
      const rec: Rec = {};
      for (const f of [
        'Id',
        'Name',
        'MasterLabel',
        'LicenseDefinitionKey',
        'Status',
        'TotalLicenses',
        'CreatedDate',
        'LastModifiedDate',
        'SystemModstamp',
      ]) {
        rec[f] = row.get(f);
      }
      out.push({ ...rec, TotalLicenses: total(rec), UsedLicenses: used.get(String(rec.Id)) ?? 0 });
    }
    return out;
  });

  return new Map<string, Table>([
    ['UserLicense', userLicenses],
    ['PermissionSetLicense', psLicenses],
    ['PermissionSetLicenseAssign', psla],
    ['PermissionSetGroup', new StaticTable('PermissionSetGroup', lic.groups)],
    ['PermissionSet', new StaticTable('PermissionSet', lic.permissionSets)],
    ['PermissionSetAssignment', psa],
  ]);
}

/** The licence changes a test makes; the Store snapshots them with everything else. */
export class LicenceStore {
  private readonly totals = new Map<string, number>();
  private readonly removed = new Set<string>();
  private readonly added: AddedAssignment[] = [];

  constructor(
    private readonly seed: number,
    private readonly lic: LicenceOrg,
  ) {}

  changes(): LicenceChanges {
    return { totals: new Map(this.totals), removed: new Set(this.removed), added: this.added.slice() };
  }

  /** Adds an assignment; refuses a duplicate (user already holds it), as Salesforce does (DUPLICATE_VALUE). */
  assign(object: AssignmentObject, userId: string, targetId: string, atMs: number, current: Table): string {
    const [field, target] =
      object === 'PermissionSetLicenseAssign'
        ? ['PermissionSetLicenseId', this.lic.psLicenses.find((r) => r.Id === targetId || r.DeveloperName === targetId)]
        : ['PermissionSetId', this.lic.permissionSets.find((r) => r.Id === targetId || r.Name === targetId)];
    if (!target)
      throw new Error(
        `simulator: no ${object === 'PermissionSetAssignment' ? 'PermissionSet' : 'PermissionSetLicense'} ${targetId}`,
      );
    for (let p = 0; p < current.size(); p++) {
      const r = current.row(p);
      if (r && r.get('AssigneeId') === userId && r.get(field) === target.Id) {
        throw new Error(`simulator: DUPLICATE_VALUE: user ${userId} already holds ${String(target.Id)}`);
      }
    }
    const prefix =
      object === 'PermissionSetLicenseAssign'
        ? KeyPrefix.PermissionSetLicenseAssign
        : KeyPrefix.PermissionSetAssignment;
    const id = makeId(prefix, ADDED_BASE + this.added.length, orgIdSpace(this.seed));
    const groupId = object === 'PermissionSetAssignment' ? (target.PermissionSetGroupId as string | null) : null;
    this.added.push({ object, id, userId, targetId: String(target.Id), groupId, atMs });
    return id;
  }

  unassign(id: string, current: Table): void {
    if (!current.byId(id)) throw new Error(`simulator: no ${current.objectName} ${id}`);
    this.removed.add(id);
  }

  /** TotalLicenses of a UserLicense (Id or LicenseDefinitionKey) or PermissionSetLicense (Id or DeveloperName). */
  setTotal(key: string, total: number, org: OrgTables): void {
    if (!Number.isInteger(total) || total < 0)
      throw new Error(`simulator: a licence total is an integer >= 0, got ${total}`);
    const psl = this.lic.psLicenses.find((r) => r.Id === key || r.DeveloperName === key);
    let id = psl ? String(psl.Id) : null;
    for (let p = 0; id === null && p < org.licenses.size(); p++) {
      const r = org.licenses.row(p)!;
      if (r.get('Id') === key || r.get('LicenseDefinitionKey') === key) id = String(r.get('Id'));
    }
    if (id === null) throw new Error(`simulator: no UserLicense or PermissionSetLicense ${key}`);
    this.totals.set(id, total);
  }
}
