import { charsAtMost } from '../kernel/compact-map';
import { ownString } from '../kernel/own-string';
import { longId, packKey, shortId, unpackKey } from './login-ids';

/**
 * A smaller in-memory form of a packed login device (pipeline/latest-logins.ts DeviceCodec:
 * `<time, 15 digits><Salesforce Id>\0<fingerprint, 4 chars><JSON array of strings or nulls>`,
 * ~90 characters), for the millions of them a run keeps (the live index, the latest logins). The
 * wire forms (the neurons-device header, the index topic) stay the packed string: this is only
 * how a process holds it. As latin1 characters (one byte each in an ArenaStringMap):
 *
 *   0x01, time (6 bytes), the Id's 15-character form, fingerprint (u16 interned), then per array
 *   element: 0x00 null | 0x01 u16 interned string | 0x02 IPv4 (4 bytes) | 0x03 u8 length, latin1
 *
 * or 0x02 and the same with the Id in 12 bytes (its 15 base-62 characters, login-ids.ts packKey):
 * about 35 bytes for a device of a browser, platform, application and IPv4 address. Few distinct
 * browsers, platforms and applications exist, so they are interned (at most 4,096 distinct
 * strings per compactor: the table is bounded; a string met after it is full is kept inline).
 * Anything that does not match exactly (another layout, a JSON text that does not print back the
 * same, an Id without its checksum, characters above U+00FF) is kept whole behind a 0x00: every
 * string comes back exactly (`expand(compact(s)) === s`).
 */
const RAW = '\u0000';
const PACKED = '\u0001';
/** As PACKED, the Id in 12 bytes (login-ids.ts packKey: base 62) instead of its 15 characters. */
const PACKED_ID = '\u0002';
const NULL = 0;
const INTERNED = 1;
const IPV4 = 2;
const INLINE = 3;
// Browsers, platforms, applications and fingerprints are a few hundred distinct strings; other
// values (an IPv6 address) would fill a larger table with strings met once (65,535 of them held
// ~15 MB of heap per compactor): once it is full they are kept inline.
const MAX_INTERNED = 4096;
// A device's array holds a handful of values; a longer one is kept whole (and the scratch buffer
// below stays small: it is sized by the longest array compacted).
const MAX_VALUES = 16;
const TIME_LIMIT = 2 ** 48;
const DIGITS = /^\d{15}$/;

export class DeviceCompactor {
  private readonly index = new Map<string, number>();
  private readonly strings: string[] = [];
  /** Each interned string as JSON prints it. */
  private readonly quoted: string[] = [];

  /** Distinct strings interned so far. */
  get interned(): number {
    return this.strings.length;
  }

  /** The interned strings in their order: a compacted device names them by index (a checkpoint keeps them). */
  get table(): readonly string[] {
    return this.strings;
  }

  /**
   * Interns `strings` in order into an empty compactor, so that each has the index it had in the
   * compactor whose `table` they are (a checkpoint's devices read back: index-checkpoint.ts).
   */
  restoreTable(strings: readonly string[]): void {
    if (this.strings.length > 0) throw new Error('restoreTable: the compactor already interned strings');
    for (const s of strings) {
      if (typeof s !== 'string' || this.index.has(s) || this.intern(s) === undefined) {
        throw new Error('restoreTable: not a table of distinct strings within the bound');
      }
    }
  }

  compact(packed: string): string {
    return this.tryCompact(packed) ?? RAW + packed;
  }

  /** The login time of a compacted device, read without expanding it; undefined when not readable. */
  timeOf(compact: string): number | undefined {
    if (compact[0] !== PACKED && compact[0] !== PACKED_ID) {
      const digits = compact.slice(1, 16);
      return DIGITS.test(digits) ? Number(digits) : undefined;
    }
    let time = 0;
    for (let at = 1; at < 7; at++) time = time * 256 + compact.charCodeAt(at);
    return time;
  }

  expand(compact: string): string {
    const packedId = compact[0] === PACKED_ID;
    if (compact[0] !== PACKED && !packedId) return compact.slice(1);
    let at = 1;
    let time = 0;
    for (; at < 7; at++) time = time * 256 + compact.charCodeAt(at);
    const idEnd = packedId ? 19 : 22;
    const id = packedId ? unpackKey(compact.slice(7, idEnd)) : longId(compact.slice(7, idEnd));
    const fingerprint = this.strings[u16(compact, idEnd)];
    let json = '[';
    for (at = idEnd + 2; at < compact.length;) {
      if (json.length > 1) json += ',';
      const tag = compact.charCodeAt(at++);
      if (tag === NULL) json += 'null';
      else if (tag === INTERNED) {
        json += this.quoted[u16(compact, at)];
        at += 2;
      } else if (tag === IPV4) {
        const b = (i: number) => compact.charCodeAt(at + i);
        json += `"${b(0)}.${b(1)}.${b(2)}.${b(3)}"`;
        at += 4;
      } else {
        const length = compact.charCodeAt(at);
        json += JSON.stringify(compact.slice(at + 1, at + 1 + length));
        at += 1 + length;
      }
    }
    return `${String(time).padStart(15, '0')}${id}\u0000${fingerprint}${json}]`;
  }

  /**
   * `compact(packed)` of a device given by its parts instead of its packed text (`<time, 15 digits><id>\0
   * <fingerprint><JSON.stringify(values)>`, pipeline/latest-logins.ts DeviceCodec.pack): the same string,
   * without printing the text and reading it back (a login event's offer, docs/performance-s14-logins.md;
   * packed-device-s14.test.ts holds it to `compact(pack(...))`). `time` is an integer in [0, 1e15), the
   * caller checked it. Undefined when the parts do not take the compact form: the caller compacts the
   * packed text then, which keeps it whole (the same answer as `compact`, which would not compact it either).
   */
  compactParts(time: number, id: string, fingerprint: string, values: readonly unknown[]): string | undefined {
    // compact() takes only an 18-character Id and a 4-character fingerprint (the packed text's fixed offsets)
    if (id.length !== 18 || fingerprint.length !== 4) return undefined;
    return this.write(time, id, fingerprint, values);
  }

  private tryCompact(packed: string): string | undefined {
    if (packed.length < 38 || packed.charCodeAt(33) !== 0) return undefined;
    const digits = packed.slice(0, 15);
    if (!DIGITS.test(digits)) return undefined;
    const values = simpleArray(packed, 38) ?? parsedArray(packed.slice(38));
    if (values === undefined) return undefined;
    return this.write(Number(digits), packed.slice(15, 33), packed.slice(34, 38), values);
  }

  /** The compact form of a device's parts (read from its packed text, or given: compactParts), or undefined. */
  private write(time: number, idText: string, fingerprintText: string, values: readonly unknown[]): string | undefined {
    if (time >= TIME_LIMIT) return undefined;
    // 12 bytes when base 62 with its checksum (the usual Id), else its 15 characters when checksummed
    const id12 = packKey(idText);
    const id15 = id12.length === 12 ? '' : shortId(idText);
    if (id15 === undefined) return undefined;
    const idEnd = id12.length === 12 ? 19 : 22;
    if (values.length > MAX_VALUES) return undefined;
    const fingerprint = this.intern(fingerprintText);
    if (fingerprint === undefined) return undefined;
    // written into one scratch buffer and read back as one flat string: no string per piece
    const need = 24 + values.length * 257;
    if (scratch.length < need) scratch = Buffer.allocUnsafe(need * 2);
    const out = scratch;
    out[0] = idEnd === 19 ? 2 : 1;
    for (let i = 0, shift = 40; shift >= 0; i++, shift -= 8) out[1 + i] = Math.floor(time / 2 ** shift) % 256;
    const id = idEnd === 19 ? id12 : id15;
    for (let i = 0; i < idEnd - 7; i++) {
      const c = id.charCodeAt(i);
      if (c > 0xff) return undefined;
      out[7 + i] = c;
    }
    out[idEnd] = fingerprint >>> 8;
    out[idEnd + 1] = fingerprint & 0xff;
    let n = idEnd + 2;
    for (const v of values) {
      if (v === null) {
        out[n++] = NULL;
        continue;
      }
      if (typeof v !== 'string') return undefined;
      if (writeIpv4(v, out, n + 1)) {
        out[n] = IPV4;
        n += 5;
        continue;
      }
      const interned = this.intern(v);
      if (interned !== undefined) {
        out[n] = INTERNED;
        out[n + 1] = interned >>> 8;
        out[n + 2] = interned & 0xff;
        n += 3;
        continue;
      }
      if (v.length > 255 || !charsAtMost(v, 0xff)) return undefined;
      out[n] = INLINE;
      out[n + 1] = v.length;
      out.write(v, n + 2, 'latin1');
      n += 2 + v.length;
    }
    return out.toString('latin1', 0, n);
  }

  /** The index of `s` in the table; undefined when the table is full. */
  private intern(s: string): number | undefined {
    let i = this.index.get(s);
    if (i === undefined) {
      if (this.strings.length >= MAX_INTERNED) return undefined;
      i = this.strings.length;
      // kept for the compactor's life: a copy, never a view of a longer string (a login event's values,
      // compactParts, are views of the CSV parser's decoded chunk: each kept one held its whole chunk, live
      // heap 39 -> 63 MB at 100k users, docs/performance-s14-logins.md)
      s = ownString(s);
      this.strings.push(s);
      this.quoted.push(JSON.stringify(s));
      this.index.set(s, i);
    }
    return i;
  }
}

let scratch = Buffer.allocUnsafe(1024);

/**
 * The elements of a JSON array of nulls and strings without escapes starting at `from` (what
 * JSON.stringify prints for them, the usual device), read without JSON.parse; undefined for
 * anything else (parsedArray decides then).
 */
function simpleArray(text: string, from: number): (string | null)[] | undefined {
  if (text.charCodeAt(from) !== 0x5b) return undefined; // [
  const out: (string | null)[] = [];
  let at = from + 1;
  if (text.charCodeAt(at) === 0x5d) return at + 1 === text.length ? out : undefined; // ]
  for (;;) {
    if (text.startsWith('null', at)) {
      out.push(null);
      at += 4;
    } else if (text.charCodeAt(at) === 0x22) {
      const start = at + 1;
      for (at = start; at < text.length; at++) {
        const c = text.charCodeAt(at);
        // an escape, a control character or a surrogate: JSON.parse and a check decide
        if (c === 0x5c || c < 0x20 || (c >= 0xd800 && c <= 0xdfff)) return undefined;
        if (c === 0x22) break;
      }
      if (at >= text.length) return undefined;
      out.push(text.slice(start, at));
      at++;
    } else return undefined;
    const next = text.charCodeAt(at++);
    if (next === 0x5d) return at === text.length ? out : undefined;
    if (next !== 0x2c) return undefined; // ,
  }
}

/** The elements of a JSON array text that prints back exactly the same, else undefined. */
function parsedArray(json: string): unknown[] | undefined {
  let values: unknown;
  try {
    values = JSON.parse(json);
  } catch {
    return undefined;
  }
  return Array.isArray(values) && JSON.stringify(values) === json ? values : undefined;
}

function u16(s: string, at: number): number {
  return (s.charCodeAt(at) << 8) | s.charCodeAt(at + 1);
}

/**
 * Writes the 4 bytes of a canonical dotted IPv4 address (four parts of 1 to 3 ASCII digits, each at
 * most 255, no leading zero) at `at`; false for anything else (bytes may have been written then).
 * Read by character code: the regex and four Number/String round trips it replaces were ~6.6 % of a
 * users index load's CPU (bench/routine-index-load.ts, 300k entries, session 20); applying an entry
 * went 6.92 -> 6.22 µs (--apply-only, 6 rounds alternating, medians). The same verdicts:
 * packed-device-ipv4-s20.test.ts holds it to that form.
 */
export function writeIpv4(s: string, out: Buffer, at: number): boolean {
  const length = s.length;
  if (length < 7 || length > 15) return false;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || part === 3) return false;
      out[at + part++] = value;
      value = 0;
      digits = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39 || (digits === 1 && value === 0)) return false; // not a digit, or a leading zero
    value = value * 10 + (c - 0x30);
    if (++digits > 3 || value > 255) return false;
  }
  if (digits === 0 || part !== 3) return false;
  out[at + 3] = value;
  return true;
}
