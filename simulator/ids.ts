/**
 * Salesforce record ids. A 15-char id is a 3-char key prefix (the object type), a 2-char pod
 * code, a reserved char and a 9-char base-62 counter; the 18-char form appends a 3-char suffix
 * that encodes which of the first 15 chars are upper case, so ids survive case-insensitive
 * systems. The simulator derives every id from (prefix, row index), which lets it turn an id
 * back into a row index without any lookup table.
 */

// ASCII order ('0' < 'A' < 'a'), so comparing ids as strings orders them by index.
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
/** Counter digits the row index uses (62^6 rows per object and org). */
const INDEX_LEN = 6;

/** An org's id space: 2-char pod code + the counter's 3 leading digits (base 62). */
export type IdSpace = string;
/** The space of ids made without an org (query jobs, fixtures). */
export const DEFAULT_SPACE: IdSpace = 'Hs000';

const spaces = new Map<number, IdSpace>();
/** The id space of the org generated from `seed`: distinct seeds (below 62^5) give distinct spaces. */
export function orgIdSpace(seed: number): IdSpace {
  let sp = spaces.get(seed);
  if (sp === undefined) {
    // an affine map with a multiplier prime to 62 is one-to-one modulo 62^5
    let n = ((((seed % 916_132_832) * 7919) % 916_132_832) + 4_100_625) % 916_132_832;
    sp = '';
    for (let i = 0; i < 5; i++) {
      sp = BASE62[n % 62] + sp;
      n = Math.floor(n / 62);
    }
    spaces.set(seed, sp);
  }
  return sp;
}

/** Key prefixes of the objects the simulator serves. */
export const KeyPrefix = {
  User: '005',
  LoginHistory: '0Ya',
  UserLogin: '060',
  UserRole: '00E',
  Profile: '00e',
  UserLicense: '100',
  Organization: '00D',
  QueryJob: '750',
  Contact: '003',
  Account: '001',
  Individual: '0PK',
  CallCenter: '04v',
  LoginGeo: '04F',
  Network: '0DB',
  AuthConfig: '0Ha',
  PermissionSet: '0PS',
  PermissionSetGroup: '0PG',
  PermissionSetAssignment: '0Pa',
  PermissionSetLicense: '0PL',
  PermissionSetLicenseAssign: '2LA',
  QueryLocator: '01g',
} as const;

/** The 3-char case-safe checksum of a 15-char id. */
export function checksum(id15: string): string {
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let j = 0; j < 5; j++) {
      const c = id15.charCodeAt(chunk * 5 + j);
      if (c >= 65 && c <= 90) bits |= 1 << j;
    }
    out += SUFFIX[bits];
  }
  return out;
}

/** 18-char id of row `index` (0-based) of the object with key prefix `prefix`, in an org's id space. */
export function makeId(prefix: string, index: number, space: IdSpace = DEFAULT_SPACE): string {
  let n = index + 1; // counters start at 1, as real ids never end in 000000000
  if (!(n >= 1 && n < 62 ** INDEX_LEN)) throw new RangeError(`simulator: row index ${index} out of range`);
  let counter = '';
  for (let i = 0; i < INDEX_LEN; i++) {
    counter = BASE62[n % 62] + counter;
    n = Math.floor(n / 62);
  }
  const id15 = prefix + space.slice(0, 2) + '0' + space.slice(2) + counter;
  return id15 + checksum(id15);
}

/** Row index of an id made by makeId with this prefix and space, or -1 when it is not one. Accepts 15 or 18 chars. */
export function indexOfId(prefix: string, id: string, space: IdSpace = DEFAULT_SPACE): number {
  if ((id.length !== 15 && id.length !== 18) || !id.startsWith(prefix + space.slice(0, 2) + '0' + space.slice(2)))
    return -1;
  const id15 = id.slice(0, 15);
  if (id.length === 18 && id.slice(15) !== checksum(id15)) return -1;
  let n = 0;
  for (let i = 15 - INDEX_LEN; i < 15; i++) {
    const d = BASE62.indexOf(id15[i]);
    if (d < 0) return -1;
    n = n * 62 + d;
  }
  return n - 1;
}

/** Is this a syntactically valid 15- or 18-char Salesforce id (checksum included)? */
export function isValidId(id: string): boolean {
  if (id.length !== 15 && id.length !== 18) return false;
  for (let i = 0; i < id.length; i++) if (BASE62.indexOf(id[i]) < 0) return false;
  return id.length === 15 || id.slice(15) === checksum(id.slice(0, 15));
}

/** The 18-char form of a valid 15- or 18-char id. */
export function to18(id: string): string {
  return id.length === 18 ? id : id + checksum(id);
}
