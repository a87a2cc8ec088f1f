/**
 * LoginHistory rows, generated on demand from (seed, index). LoginTime never decreases with the
 * index, so a filter on LoginTime becomes a binary search over indices instead of a scan, and
 * the newest events are always the highest indices (as with a real, append-only history).
 */
import { LOGIN_TYPES } from './fields-other';
import { KeyPrefix, makeId, orgIdSpace } from './ids';
import { PLACES } from './pools';
import { hashInts, hashString, pickBy, unit, weighted } from './prng';
import { Row, Value } from './table';
import { iso } from './gen-users';

const DAY = 86400_000;
/** Generated history covers this window before `now` (orgs keep six months). */
export const LOGIN_WINDOW_MS = 180 * DAY;

export interface LoginGenContext {
  seed: number;
  nowMs: number;
  /** Number of generated events (the time window is divided among them). */
  count: number;
  /** Generated users the events belong to (indices 0..users-1). */
  users: number;
}

/** LoginTime of generated event i, in ms: monotone in i, inside the window, whole seconds. */
export function loginTimeMs(ctx: LoginGenContext, i: number): number {
  const start = ctx.nowMs - LOGIN_WINDOW_MS;
  const u = unit(hashInts(ctx.seed, 0x109, i), 1);
  return Math.floor((start + ((i + u) / Math.max(1, ctx.count)) * (LOGIN_WINDOW_MS - 1000)) / 1000) * 1000;
}

const slots = new Map<string, number>();
const slotId = (name: string): number => {
  let s = slots.get(name);
  if (s === undefined) slots.set(name, (s = hashString(name)));
  return s;
};

const STATUS: [string, number][] = [
  ['Success', 85],
  ['Invalid Password', 8],
  ['User is frozen', 1.5],
  ['Password Lockout', 1],
  ['Restricted IP', 1],
  ['Failed: Computer activation required', 1],
  ['Failed: API security token required', 1],
  ['No Salesforce.com Access', 0.5],
  ['Failed: Verification error', 1],
];
const UI_CLIENTS: [string, string][] = [
  ['Chrome 124', 'Windows 10'],
  ['Chrome 125', 'Mac OSX'],
  ['Firefox 126', 'Linux'],
  ['Safari 17', 'Mac OSX'],
  ['Edge 124', 'Windows 10'],
  ['Mobile Safari 17', 'iOS'],
  ['Chrome Mobile 124', 'Android 14'],
];
const API_APPS = ['Data Loader Bulk', 'Workbench', 'Salesforce CLI', 'Acme Neurons Connector', 'N/A'];

/** One LoginHistory row; `pinned` overrides UserId/LoginTime for events added by tests. */
export class LoginRow implements Row {
  private readonly cache: Value[] = new Array(FIELD_COUNT);
  private readonly rowSeed: number;

  constructor(
    private readonly ctx: LoginGenContext,
    readonly i: number,
    private readonly pinned?: { userId: string; timeMs: number },
  ) {
    this.rowSeed = hashInts(ctx.seed, 0x10c, i);
  }

  get(f: string): Value {
    const k = FIELD_INDEX.get(f);
    if (k === undefined) return null;
    return this.at(k);
  }

  /** get(f) for the field at index k of loginFieldIndex (the page writer resolves it once a column). */
  at(k: number): Value {
    let v = this.cache[k];
    if (v === undefined) {
      v = FIELD_FNS[k](this);
      this.cache[k] = v;
    }
    return v;
  }

  u(slot: string): number {
    return unit(this.rowSeed, slotId(slot));
  }

  str(f: string): string {
    const v = this.get(f);
    return v === null ? '' : String(v);
  }

  /** The org's id space. */
  space(): string {
    return orgIdSpace(this.ctx.seed);
  }

  timeMs(): number {
    return this.pinned ? this.pinned.timeMs : loginTimeMs(this.ctx, this.i);
  }

  userId(): string {
    if (this.pinned) return this.pinned.userId;
    return makeId(KeyPrefix.User, Math.floor(this.u('user') * Math.max(1, this.ctx.users)), this.space());
  }
}

type Fn = (r: LoginRow) => Value;
const isApi = (r: LoginRow): boolean =>
  r.str('LoginType') !== 'Application' &&
  r.str('LoginType') !== 'Chatter Communities External User' &&
  r.str('LoginType') !== 'Lightning Login';

const LOGIN_FIELDS: Record<string, Fn> = {
  Id: (r) => makeId(KeyPrefix.LoginHistory, r.i, r.space()),
  UserId: (r) => r.userId(),
  LoginTime: (r) => iso(r.timeMs()),
  LoginType: (r) =>
    weighted(
      r.u('type'),
      LOGIN_TYPES.map((t, k): [string, number] => [t, [60, 15, 5, 8, 4, 3, 3, 2][k]]),
    ),
  LoginSubType: (r) =>
    r.str('LoginType') === 'Remote Access 2.0'
      ? pickBy(r.u('subType'), [
          'OAuth Username-Password Flow',
          'OAuth JWT Bearer Flow',
          'OAuth Client Credentials Flow',
        ])
      : null,
  SourceIp: (r) =>
    r.u('v6') < 0.05
      ? `2001:db8:${Math.floor(r.u('ip1') * 65535).toString(16)}::${Math.floor(r.u('ip2') * 65535).toString(16)}`
      : `${[81, 85, 93, 104, 176, 203][Math.floor(r.u('ip0') * 6)]}.${Math.floor(r.u('ip1') * 256)}.` +
        `${Math.floor(r.u('ip2') * 256)}.${1 + Math.floor(r.u('ip3') * 254)}`,
  LoginUrl: (r) => pickBy(r.u('url'), ['acme-sim.my.salesforce.com', 'login.salesforce.com', 'acme-sim.my.site.com']),
  AuthenticationServiceId: (r) =>
    r.str('LoginType').startsWith('SAML') ? makeId(KeyPrefix.AuthConfig, 0, r.space()) : null,
  LoginGeoId: (r) => (r.u('geo') < 0.95 ? makeId(KeyPrefix.LoginGeo, r.i, r.space()) : null),
  Browser: (r) => (isApi(r) ? 'Unknown' : pickBy(r.u('client'), UI_CLIENTS)[0]),
  Platform: (r) => (isApi(r) ? 'Unknown' : pickBy(r.u('client'), UI_CLIENTS)[1]),
  Status: (r) => weighted(r.u('status'), STATUS),
  Application: (r) => (isApi(r) ? pickBy(r.u('app'), API_APPS) : 'Browser'),
  ClientVersion: (r) => (isApi(r) ? pickBy(r.u('ver'), ['58.0', '60.0', '62.0']) : 'N/A'),
  ApiType: (r) =>
    isApi(r) ? pickBy(r.u('apiType'), ['SOAP Partner', 'SOAP Enterprise', 'REST', 'Bulk API 2.0']) : 'N/A',
  ApiVersion: (r) => (isApi(r) ? r.str('ClientVersion') : 'N/A'),
  CountryIso: (r) => (r.u('noCountry') < 0.02 ? null : pickBy(r.u('country'), PLACES).countryIso),
  AuthMethodReference: (r) => (r.u('amr') < 0.3 ? pickBy(r.u('amrV'), ['pwd', 'mfa', 'hwk', 'swk']) : null),
  TlsProtocol: (r) =>
    weighted(r.u('tls'), [
      ['TLS 1.2', 40],
      ['TLS 1.3', 59],
      ['Unknown', 1],
    ]),
  CipherSuite: (r) =>
    r.str('TlsProtocol') === 'TLS 1.3'
      ? pickBy(r.u('cipher'), ['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256'])
      : r.str('TlsProtocol') === 'Unknown'
        ? 'Unknown'
        : pickBy(r.u('cipher'), ['ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-GCM-SHA256']),
  OptionsIsGet: (r) => !isApi(r) && r.u('get') < 0.1,
  OptionsIsPost: (r) => !isApi(r) && r.u('get') >= 0.1,
  ForwardedForIp: (r) =>
    r.u('fwd') < 0.1
      ? `10.${Math.floor(r.u('f1') * 256)}.${Math.floor(r.u('f2') * 256)}.${1 + Math.floor(r.u('f3') * 254)}`
      : null,
  NetworkId: (r) =>
    r.str('LoginType') === 'Chatter Communities External User' ? makeId(KeyPrefix.Network, 0, r.space()) : null,
};

const FIELD_NAMES = Object.keys(LOGIN_FIELDS);
const FIELD_FNS: Fn[] = FIELD_NAMES.map((n) => LOGIN_FIELDS[n]);
const FIELD_INDEX = new Map<string, number>(FIELD_NAMES.map((n, i) => [n, i]));
const FIELD_COUNT = FIELD_NAMES.length;

/** The index LoginRow.at takes for a field, or undefined (get reads such a field as null). */
export function loginFieldIndex(f: string): number | undefined {
  return FIELD_INDEX.get(f);
}
