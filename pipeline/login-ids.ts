import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * The LoginHistory Ids of the look-back window, packed for the state record: sorted, each 18-char
 * Id whose last 3 characters are its case-safe checksum stored as its 15-char form, front-coded
 * against the Id before it (shared prefix length, then the rest), one per line, deflated.
 * Sequential Ids share 10 or more leading characters, so an Id costs about 2 to 3 bytes instead
 * of the 20 of a JSON string: at a million logins a day, a one-hour window (about 42,000 Ids)
 * packs to roughly 100 KiB, far below Kafka's 1 MiB default message size. Lossless for any
 * string without a line break.
 */
export function packIds(ids: Iterable<string>): Buffer {
  const bodies = [...new Set(ids)].map((id) => {
    if (id.includes('\n')) throw new RangeError('an Id with a line break cannot be packed');
    const short = shortId(id);
    return short !== undefined ? `.${short}` : `:${id}`;
  });
  bodies.sort((a, b) => (a.slice(1) < b.slice(1) ? -1 : a.slice(1) > b.slice(1) ? 1 : 0));
  let prev = '';
  const lines: string[] = [];
  for (const b of bodies) {
    const body = b.slice(1);
    let shared = 0;
    const max = Math.min(35, prev.length, body.length);
    while (shared < max && prev.charCodeAt(shared) === body.charCodeAt(shared)) shared++;
    lines.push(`${shared.toString(36)}${b[0]}${body.slice(shared)}`);
    prev = body;
  }
  return deflateRawSync(Buffer.from(lines.join('\n'), 'utf8'), { level: 9 });
}

export function unpackIds(packed: Buffer): string[] {
  if (packed.length === 0) return [];
  const text = inflateRawSync(packed).toString('utf8');
  if (text === '') return [];
  const out: string[] = [];
  let prev = '';
  for (const line of text.split('\n')) {
    const shared = parseInt(line[0], 36);
    const body = prev.slice(0, shared) + line.slice(2);
    out.push(line[1] === '.' ? body + checksum(body) : body);
    prev = body;
  }
  return out;
}

const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/**
 * The 3-character case-safe suffix of a 15-character Salesforce Id. simulator/ids.ts has its
 * own copy on purpose: the simulator is the tests' independent source of truth and imports no
 * product code, so a mistake here cannot hide by agreeing with itself.
 */
export function checksum(id15: string): string {
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) out += SUFFIX[suffixBits(id15, chunk)];
  return out;
}

/** The index in SUFFIX of the checksum's character `chunk` (0-2): one bit per upper-case letter of its five. */
function suffixBits(id: string, chunk: number): number {
  let bits = 0;
  for (let j = 0; j < 5; j++) {
    const c = id.charCodeAt(chunk * 5 + j);
    if (c >= 65 && c <= 90) bits |= 1 << j;
  }
  return bits;
}

/** Whether an 18-character Id's last 3 characters are the checksum of its first 15 (`checksum`,
 *  compared a character at a time: no slices and no suffix string a key, on every packKey). With the
 *  12-character result built in one call: an index entry applied 6.71 -> 5.88 µs (session 20,
 *  bench/routine-index-load.ts --apply-only, 300k entries, 6 rounds alternating, medians). */
function suffixIsChecksum(id: string): boolean {
  for (let chunk = 0; chunk < 3; chunk++)
    if (id.charCodeAt(15 + chunk) !== SUFFIX.charCodeAt(suffixBits(id, chunk))) return false;
  return true;
}

/** The 15-character form of an 18-character Id whose suffix is its checksum, else undefined. */
export function shortId(id: string): string | undefined {
  return id.length === 18 && suffixIsChecksum(id) ? id.slice(0, 15) : undefined;
}

/** The 18-character form of a 15-character Id. */
export function longId(id15: string): string {
  return id15 + checksum(id15);
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < 62; i++) DIGIT[BASE62.charCodeAt(i)] = i;
/** 62^5 < 2^30: five base-62 characters in 30 bits, so a u32 of them has its top two bits free. */
const ID_TAG = 0x80;
const SHORT_TAG = 0x40;
const ESCAPE = '\u007f';

/**
 * A user key as the off-heap maps hold it (LiveIndex, LatestLogins: a million users at a time): a
 * valid Salesforce Id (15 case-sensitive base-62 characters, or 18 whose last 3 are the checksum of
 * the first 15, which is derived back) in 12 bytes, as three big-endian u32 of five characters
 * each, the first byte's top bit set (and its next bit for the 15-character form); any other
 * string as itself, behind a 0x7f when its first character is 0x7f or above, so no other key ever
 * holds a first byte with the top bit set. 18 -> 12 bytes a user; `unpackKey` gives back every key
 * exactly. As latin1 characters (one byte each).
 */
export function packKey(key: string): string {
  const short = key.length === 15;
  if (short || key.length === 18) {
    const packed = packId15(key);
    if (packed !== undefined && (short || suffixIsChecksum(key)))
      return short ? String.fromCharCode(packed.charCodeAt(0) | SHORT_TAG) + packed.slice(1) : packed;
  }
  return key.length > 0 && key.charCodeAt(0) >= 0x7f ? ESCAPE + key : key;
}

/** The key `packKey` gave `held` for. */
export function unpackKey(held: string): string {
  const first = held.charCodeAt(0);
  if (first === 0x7f) return held.slice(1);
  if (first < ID_TAG || held.length !== 12) return held;
  let id15 = '';
  for (let group = 0; group < 3; group++) {
    let n = 0;
    for (let i = 0; i < 4; i++) n = n * 256 + (held.charCodeAt(group * 4 + i) & (group + i === 0 ? 0x3f : 0xff));
    let chars = '';
    for (let i = 0; i < 5; i++, n = Math.floor(n / 62)) chars = BASE62[n % 62] + chars;
    id15 += chars;
  }
  return first & SHORT_TAG ? id15 : id15 + checksum(id15);
}

/** The first 15 characters of `key` in 12 bytes (the first's top bit set), or undefined when they are not base 62. */
function packId15(key: string): string | undefined {
  const a = group5(key, 0);
  const b = group5(key, 5);
  const c = group5(key, 10);
  if (a < 0 || b < 0 || c < 0) return undefined;
  // one string of 12 characters, not three joined
  return String.fromCharCode(
    (a >>> 24) | ID_TAG,
    (a >>> 16) & 0xff,
    (a >>> 8) & 0xff,
    a & 0xff,
    b >>> 24,
    (b >>> 16) & 0xff,
    (b >>> 8) & 0xff,
    b & 0xff,
    c >>> 24,
    (c >>> 16) & 0xff,
    (c >>> 8) & 0xff,
    c & 0xff,
  );
}

/** Five base-62 characters of `key` from `at` as a number below 62^5, or -1. */
function group5(key: string, at: number): number {
  let n = 0;
  for (let i = at; i < at + 5; i++) {
    const c = key.charCodeAt(i);
    const d = c < 128 ? DIGIT[c] : -1;
    if (d < 0) return -1;
    n = n * 62 + d;
  }
  return n;
}
