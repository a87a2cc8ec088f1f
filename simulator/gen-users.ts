/**
 * User rows, generated on demand from (seed, index): the simulator never stores generated
 * users, so a million-user org costs no memory. Each field is a function of the row's random
 * slots and of other fields, computed only when a query reads it and cached for that row.
 *
 * Rows 0–6 are fixed characters so small orgs still contain every interesting case:
 * 0 admin; 1 "Zoë Ångström" (street with a newline); 2 "José Núñez" (frozen; quotes, comma and
 * newline in the street; CRLF in AboutMe); 3 "北京 太郎" (inactive); 4 Automated Process;
 * 5 Site Guest User; 6 Integration User.
 */
import { USER_PERMISSIONS, USER_PREFERENCES } from './fields-user';
import { KeyPrefix, makeId, orgIdSpace } from './ids';
import { INTERNAL_ROLES, OrgTables, PARTNER_ROLES, PROFILES_BY_USER_TYPE } from './org-tables';
import {
  ABOUT_ME,
  CJK_NAMES,
  COMPANIES,
  DEPARTMENTS,
  DIVISIONS,
  FIRST_NAMES,
  LAST_NAMES,
  OUT_OF_OFFICE,
  PLACES,
  Place,
  SIGNATURES,
  TITLES,
} from './pools';
import { fmix32, hashInts, hashString, pickBy, unit, weighted } from './prng';
import { Row, Value } from './table';

export interface UserGenContext {
  seed: number;
  nowMs: number;
  /** Id of the API (integration) user, who created the first users. */
  apiUserId: string;
  org: OrgTables;
}

const DAY = 86400_000;
const MAIL_DOMAINS = ['acme.example.com', 'globex.example.org', 'mail.example.net', 'example.co.jp'];
const dayPrefix = new Map<number, string>(); // day number → "YYYY-MM-DDT" (a few thousand days at most)
const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** ms → "YYYY-MM-DDTHH:MM:SS.000Z" (whole seconds, as Salesforce datetimes are). Hot path. */
export function iso(ms: number): string {
  const s = Math.floor(ms / 1000);
  const day = Math.floor(s / 86400);
  let prefix = dayPrefix.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * 86400_000).toISOString().slice(0, 11);
    dayPrefix.set(day, prefix);
  }
  const t = s - day * 86400;
  return `${prefix}${pad2(Math.floor(t / 3600))}:${pad2(Math.floor((t % 3600) / 60))}:${pad2(t % 60)}.000Z`;
}

const slots = new Map<string, number>();
function slotId(name: string): number {
  let s = slots.get(name);
  if (s === undefined) slots.set(name, (s = hashString(name)));
  return s;
}

/** Letters a–z and digits only, for usernames and aliases ("Zoë Ångström" → "zoe", "angstrom"). */
const asciiMemo = new Map<string, string>(); // inputs are generated names: a bounded set
export function ascii(s: string): string {
  let a = asciiMemo.get(s);
  if (a === undefined) {
    a = toAscii(s);
    if (asciiMemo.size < 10_000) asciiMemo.set(s, a);
  }
  return a;
}

function toAscii(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[øØ]/g, 'o')
    .replace(/[łŁ]/g, 'l')
    .replace(/ß/g, 'ss')
    .replace(/[æÆ]/g, 'ae')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/** One user row. `over` holds the overrides applied since start (updates, state changes). */
export class UserRow implements Row {
  /** Generated values by field index (see FIELD_INDEX); undefined until computed. */
  private readonly cache: Value[] = new Array(FIELD_COUNT);
  private readonly rowSeed: number;

  constructor(
    readonly ctx: UserGenContext,
    readonly i: number,
    private readonly over?: Readonly<Record<string, Value>>,
  ) {
    this.rowSeed = hashInts(ctx.seed, 0x5e5, i);
  }

  get(f: string): Value {
    if (this.over !== undefined) {
      const o = this.over[f];
      if (o !== undefined) return o;
    }
    return this.gen(f);
  }

  /**
   * get(f) for the field at index k of FIELD_INDEX (userFieldIndex): the page writer resolves each
   * column's index once, not by name for every row (docs/performance-s14-sim.md).
   */
  at(k: number, f: string): Value {
    if (this.over !== undefined) {
      const o = this.over[f];
      if (o !== undefined) return o;
    }
    let v = this.cache[k];
    if (v === undefined) {
      v = FIELD_FNS[k](this);
      this.cache[k] = v;
    }
    return v;
  }

  /** The generated value, ignoring overrides (usernames keep the generated names). */
  gen(f: string): Value {
    const k = FIELD_INDEX.get(f);
    if (k === undefined) return null;
    let v = this.cache[k];
    if (v === undefined) {
      v = FIELD_FNS[k](this);
      this.cache[k] = v;
    }
    return v;
  }

  /** Uniform [0, 1) for a named random slot of this row. */
  u(slot: string): number {
    return unit(this.rowSeed, slotId(slot));
  }

  /** A random byte (0–255) from numbered slots: cheap randomness for the ~100 booleans. */
  byte(k: number): number {
    return (fmix32(this.rowSeed ^ fmix32(0x8f1bbcdc + (k >>> 2))) >>> ((k & 3) << 3)) & 255;
  }

  str(f: string): string {
    const v = this.gen(f);
    return v === null ? '' : String(v);
  }

  place(): Place {
    const fixed = [0, 1, 2, 5][this.i];
    return PLACES[fixed ?? Math.floor(this.u('place') * PLACES.length)];
  }

  hasAddress(): boolean {
    return this.i < 7 || this.u('hasAddress') < 0.92;
  }

  userId(index: number): string {
    return makeId(KeyPrefix.User, index, orgIdSpace(this.ctx.seed));
  }
}

type Fn = (r: UserRow) => Value;
const ms = (r: UserRow, f: string): number =>
  f === 'CreatedDate' ? Number(r.gen('__createdMs')) : Date.parse(r.str(f));
const chance =
  (p: number, fn: Fn): Fn =>
  (r) =>
    r.u(`chance:${fn.name}:${p}`) < p ? fn(r) : null;
const portalTypes = new Set([
  'PowerPartner',
  'CspLitePortal',
  'PowerCustomerSuccess',
  'CustomerSuccess',
  'SelfService',
]);

const FIXED_NAMES: [string | null, string][] = [
  ['Ada', 'Admin'],
  ['Zoë', 'Ångström'],
  ['José', 'Núñez'],
  ['太郎', '北京'],
  ['Automated', 'Process'],
  ['Site', 'Guest User'],
  ['Integration', 'User'],
];
const FIXED_TYPES = [
  'Standard',
  'Standard',
  'Standard',
  'Standard',
  'AutomatedProcess',
  'Guest',
  'CloudIntegrationUser',
];
const TYPE_WEIGHTS: [string, number][] = [
  ['Standard', 80],
  ['PowerPartner', 8],
  ['CspLitePortal', 6],
  ['PowerCustomerSuccess', 3],
  ['CustomerSuccess', 1.5],
  ['CsnOnly', 1],
  ['SelfService', 0.5],
];

const USER_FIELDS: Record<string, Fn> = {
  Id: (r) => r.userId(r.i),
  __cjk: (r) => r.i === 3 || (r.i >= 7 && r.u('cjk') < 0.04),
  __cjkName: (r) => (r.i === 3 ? 0 : Math.floor(r.u('cjkName') * CJK_NAMES.length)),
  FirstName: (r) => {
    if (r.i < 7) return FIXED_NAMES[r.i][0];
    if (r.gen('__cjk')) return CJK_NAMES[Number(r.gen('__cjkName'))][1];
    return r.u('noFirst') < 0.03 ? null : pickBy(r.u('first'), FIRST_NAMES);
  },
  LastName: (r) => {
    if (r.i < 7) return FIXED_NAMES[r.i][1];
    if (r.gen('__cjk')) return CJK_NAMES[Number(r.gen('__cjkName'))][0];
    return pickBy(r.u('last'), LAST_NAMES);
  },
  // Name is read-only and follows the (possibly updated) first and last names.
  Name: (r) => {
    const first = r.get('FirstName');
    const last = String(r.get('LastName') ?? '');
    if (first === null || first === '') return last;
    return r.gen('__cjk') ? `${last} ${first}` : `${first} ${last}`;
  },
  __a: (r) => ascii(r.str('FirstName')) || 'user',
  __b: (r) => ascii(r.str('LastName')) || `u${r.i}`,
  Username: (r) =>
    r.i === 0 ? 'ada.admin@acme-sim.example.com' : `${r.gen('__a')}.${r.gen('__b')}.${r.i}@acme-sim.example.com`,
  Email: (r) => `${r.gen('__a')}.${r.gen('__b')}@${pickBy(r.u('mailDomain'), MAIL_DOMAINS)}`,
  Alias: (r) => (String(r.gen('__a'))[0] + String(r.gen('__b'))).slice(0, 8),
  CommunityNickname: (r) => `${r.gen('__a')}.${r.gen('__b')}${r.i}`.slice(0, 40),
  UserType: (r) => (r.i < 7 ? FIXED_TYPES[r.i] : weighted(r.u('type'), TYPE_WEIGHTS)),
  Title: (r) => {
    if (r.i >= 1 && r.i <= 3) return ['VP, Sales & Marketing', 'Director "Special Projects"', 'マネージャー'][r.i - 1];
    return r.u('noTitle') < 0.08 ? null : pickBy(r.u('title'), TITLES);
  },
  EmployeeNumber: (r) => (r.gen('UserType') === 'Standard' && r.u('emp') < 0.9 ? `E${String(100000 + r.i)}` : null),
  Division: (r) => (r.u('noDivision') < 0.1 ? null : pickBy(r.u('division'), DIVISIONS)),
  Department: (r) => (r.u('noDept') < 0.05 ? null : pickBy(r.u('dept'), DEPARTMENTS)),
  CompanyName: (r) =>
    portalTypes.has(r.str('UserType'))
      ? pickBy(r.u('company'), COMPANIES.slice(1))
      : r.u('noCompany') < 0.1
        ? null
        : COMPANIES[0],
  Street: (r) => (r.hasAddress() ? r.place().street : null),
  City: (r) => (r.hasAddress() ? r.place().city : null),
  State: (r) => (r.hasAddress() ? r.place().state : null),
  PostalCode: (r) => (r.hasAddress() ? r.place().postalCode : null),
  Country: (r) => (r.hasAddress() ? r.place().country : null),
  __geo: (r) => r.hasAddress() && (r.i < 7 || r.u('geo') < 0.8),
  Latitude: (r) => (r.gen('__geo') ? Math.round((r.place().lat + (r.u('lat') - 0.5) * 0.1) * 1e6) / 1e6 : null),
  Longitude: (r) => (r.gen('__geo') ? Math.round((r.place().lon + (r.u('lon') - 0.5) * 0.1) * 1e6) / 1e6 : null),
  GeocodeAccuracy: (r) =>
    r.gen('__geo') ? pickBy(r.u('accuracy'), ['Address', 'Address', 'NearAddress', 'Street', 'Zip', 'City']) : null,
  Address: () => null, // compound: never served by Bulk
  EmailPreferencesAutoBcc: (r) => r.u('bcc') < 0.3,
  EmailPreferencesAutoBccStayInTouch: (r) => r.u('bccSit') < 0.1,
  EmailPreferencesStayInTouchReminder: (r) => r.u('sitRem') < 0.5,
  SenderEmail: chance(0.1, function senderEmail(r) {
    return r.str('Email');
  }),
  SenderName: chance(0.1, function senderName(r) {
    return r.get('Name');
  }),
  Signature: (r) => {
    if (r.i !== 1 && r.u('noSig') < 0.4) return null;
    const tpl = r.i === 1 ? SIGNATURES[1] : pickBy(r.u('sig'), SIGNATURES);
    return tpl
      .replace('{name}', String(r.get('Name')))
      .replace('{title}', r.str('Title'))
      .replace('{phone}', r.str('Phone'));
  },
  StayInTouchSubject: chance(0.05, function sitSubject() {
    return 'Update your "contact" info';
  }),
  StayInTouchSignature: () => null,
  StayInTouchNote: () => null,
  Phone: (r) =>
    r.i < 7 || r.u('noPhone') > 0.15
      ? `${r.place().phonePrefix} ${String(1000000 + Math.floor(r.u('phone') * 8999999))}`
      : null,
  Fax: (r) =>
    r.u('fax') < 0.15 ? `${r.place().phonePrefix} ${String(2000000 + Math.floor(r.u('faxNo') * 7999999))}` : null,
  MobilePhone: (r) =>
    r.u('mobile') < 0.6
      ? `${r.place().phonePrefix.split(' ')[0]} ${String(600000000 + Math.floor(r.u('mobNo') * 99999999))}`
      : null,
  Extension: (r) => (r.u('ext') < 0.3 ? String(1000 + Math.floor(r.u('extNo') * 8999)) : null),
  BadgeText: (r) =>
    (
      ({ PowerPartner: 'Partner', CspLitePortal: 'Customer', PowerCustomerSuccess: 'Customer' }) as Record<
        string,
        string
      >
    )[r.str('UserType')] ?? null,
  IsActive: (r) => (r.i < 7 ? r.i !== 3 : r.u('active') < 0.9),
  // UserLogin fields, kept on the user row because there is exactly one UserLogin per user.
  __IsFrozen: (r) => (r.i < 7 ? r.i === 2 : r.gen('IsActive') === true && r.u('frozen') < 0.033),
  __IsPasswordLocked: (r) => r.i >= 7 && r.u('locked') < 0.01,
  __UserLoginModified: (r) => iso(ms(r, 'CreatedDate') + r.u('ulMod') * (r.ctx.nowMs - ms(r, 'CreatedDate'))),
  TimeZoneSidKey: (r) => r.place().timeZone,
  LocaleSidKey: (r) => (r.gen('__cjk') && r.gen('__cjkName') === 3 ? 'zh_CN' : r.place().locale),
  LanguageLocaleKey: (r) => (r.gen('__cjk') && r.gen('__cjkName') === 3 ? 'zh_CN' : r.place().language),
  EmailEncodingKey: (r) =>
    r.place().locale === 'ja_JP' && r.u('enc') < 0.3 ? 'Shift_JIS' : r.u('enc') < 0.1 ? 'ISO-8859-1' : 'UTF-8',
  ReceivesInfoEmails: (r) => r.u('info') < 0.3,
  ReceivesAdminInfoEmails: (r) => r.u('adminInfo') < 0.2,
  ProfileId: (r) =>
    r.ctx.org.profileId(r.i === 0 ? 0 : weighted(r.u('profile'), PROFILES_BY_USER_TYPE[r.str('UserType')] ?? [[1, 1]])),
  UserRoleId: (r) => {
    const type = r.str('UserType');
    if (r.i === 0) return r.ctx.org.roleId(0);
    if (type === 'Standard' && r.u('hasRole') < 0.85) return r.ctx.org.roleId(pickBy(r.u('role'), INTERNAL_ROLES));
    if (type === 'PowerPartner') return r.ctx.org.roleId(pickBy(r.u('role'), PARTNER_ROLES));
    return null;
  },
  ManagerId: (r) =>
    r.i > 0 && r.i < 4 ? r.userId(0) : r.i >= 7 && r.u('hasMgr') < 0.7 ? r.userId(Math.floor(r.u('mgr') * r.i)) : null,
  DelegatedApproverId: (r) =>
    r.i >= 7 && r.u('hasDelegate') < 0.15 ? r.userId(Math.floor(r.u('delegate') * r.i)) : null,
  // CreatedDate grows with the index (ids are roughly chronological) and never reaches now.
  __createdMs: (r) =>
    Math.floor(
      (r.ctx.nowMs - 6 * 365 * DAY + (r.i / (r.i + 50_000)) * 5.9 * 365 * DAY + r.u('created') * 3600_000) / 1000,
    ) * 1000,
  CreatedDate: (r) => iso(Number(r.gen('__createdMs'))),
  CreatedById: (r) => (r.i === 0 ? r.ctx.apiUserId : r.userId(Math.floor(r.u('creator') * Math.min(r.i, 3)))),
  LastModifiedDate: (r) => iso(ms(r, 'CreatedDate') + r.u('modified') * 0.95 * (r.ctx.nowMs - ms(r, 'CreatedDate'))),
  LastModifiedById: (r) => (r.u('modifier') < 0.3 ? r.userId(r.i) : r.str('CreatedById')),
  SystemModstamp: (r) =>
    iso(Math.min(r.ctx.nowMs - 1000, ms(r, 'LastModifiedDate') + Math.floor(r.u('stamp') * 120) * 1000)),
  LastLoginDate: (r) =>
    r.str('UserType') === 'AutomatedProcess' || r.u('neverLogged') < 0.06
      ? null
      : iso(r.ctx.nowMs - r.u('lastLogin') * 90 * DAY),
  LastPasswordChangeDate: (r) =>
    r.str('UserType') === 'AutomatedProcess'
      ? null
      : iso(ms(r, 'CreatedDate') + r.u('pwd') * (r.ctx.nowMs - ms(r, 'CreatedDate'))),
  NumberOfFailedLogins: (r) => (r.u('failed') < 0.1 ? 1 + Math.floor(r.u('failedN') * 5) : 0),
  OfflineTrialExpirationDate: () => null,
  OfflinePdaTrialExpirationDate: () => null,
  ForecastEnabled: (r) => r.str('UserType') === 'Standard' && r.u('forecast') < 0.2,
  ContactId: (r) =>
    portalTypes.has(r.str('UserType')) ? makeId(KeyPrefix.Contact, r.i, orgIdSpace(r.ctx.seed)) : null,
  AccountId: (r) =>
    portalTypes.has(r.str('UserType')) ? makeId(KeyPrefix.Account, Math.floor(r.i / 7), orgIdSpace(r.ctx.seed)) : null,
  CallCenterId: (r) =>
    r.u('callCenter') < 0.04 ? makeId(KeyPrefix.CallCenter, Math.floor(r.u('cc') * 3), orgIdSpace(r.ctx.seed)) : null,
  FederationIdentifier: (r) => (r.u('fed') < 0.3 ? `${r.gen('__a')}.${r.gen('__b')}@idp.acme-sim.example.com` : null),
  AboutMe: (r) =>
    r.i === 1 ? ABOUT_ME[0] : r.i === 2 ? ABOUT_ME[3] : r.u('about') < 0.3 ? pickBy(r.u('aboutText'), ABOUT_ME) : null,
  IsProfilePhotoActive: (r) => r.u('photo') < 0.35,
  __photo: (r) =>
    r.gen('IsProfilePhotoActive')
      ? `https://acme-sim.file.force.com/profilephoto/${makeId('729', r.i, orgIdSpace(r.ctx.seed)).slice(0, 15)}`
      : 'https://acme-sim.file.force.com/profilephoto/005',
  FullPhotoUrl: (r) => `${r.gen('__photo')}/F`,
  SmallPhotoUrl: (r) => `${r.gen('__photo')}/T`,
  MediumPhotoUrl: (r) => `${r.gen('__photo')}/M`,
  BannerPhotoUrl: () => '/profilephoto/005/B',
  SmallBannerPhotoUrl: () => '/profilephoto/005/D',
  MediumBannerPhotoUrl: () => '/profilephoto/005/E',
  IsExtIndicatorVisible: (r) => r.u('extIndicator') < 0.05,
  OutOfOfficeMessage: (r) => (r.u('ooo') < 0.03 ? pickBy(r.u('oooText'), OUT_OF_OFFICE) : null),
  DigestFrequency: (r) =>
    weighted(r.u('digest'), [
      ['D', 60],
      ['W', 30],
      ['N', 10],
    ]),
  DefaultGroupNotificationFrequency: (r) =>
    weighted(r.u('groupNotif'), [
      ['N', 50],
      ['D', 20],
      ['W', 20],
      ['P', 10],
    ]),
  LastViewedDate: (r) => (r.u('viewed') < 0.2 ? iso(r.ctx.nowMs - r.u('viewedAt') * 30 * DAY) : null),
  LastReferencedDate: (r) => (r.u('viewed') < 0.2 ? iso(r.ctx.nowMs - r.u('viewedAt') * 30 * DAY + 60_000) : null),
  IndividualId: (r) => (r.u('individual') < 0.4 ? makeId(KeyPrefix.Individual, r.i, orgIdSpace(r.ctx.seed)) : null),
};

// Permission and preference booleans: each has its own share of users with it set.
const PERMISSION_SHARE: Record<string, number> = {
  SFContentUser: 0.6,
  KnowledgeUser: 0.2,
  MarketingUser: 0.1,
  SupportUser: 0.15,
  InteractionUser: 0.1,
};
USER_PERMISSIONS.forEach((p, k) => {
  const threshold = Math.round((PERMISSION_SHARE[p] ?? 0.04) * 256);
  USER_FIELDS[`UserPermissions${p}`] = (r) => r.gen('UserType') === 'Standard' && r.byte(k) < threshold;
});
USER_PREFERENCES.forEach(([p], k) => {
  const threshold = Math.round((0.05 + (hashString(p) / 0x100000000) * 0.9) * 256);
  USER_FIELDS[`UserPreferences${p}`] = (r) => r.byte(64 + k) < threshold;
});

// Fields by index: a row caches values in an array, far faster than a 200-key object.
const FIELD_NAMES = Object.keys(USER_FIELDS);
const FIELD_FNS: Fn[] = FIELD_NAMES.map((n) => USER_FIELDS[n]);
const FIELD_INDEX = new Map<string, number>(FIELD_NAMES.map((n, i) => [n, i]));
const FIELD_COUNT = FIELD_NAMES.length;

/** The index UserRow.at takes for a generated field, or undefined (a field only overrides hold). */
export function userFieldIndex(f: string): number | undefined {
  return FIELD_INDEX.get(f);
}
