import { longId, shortId } from './salesforce-id';

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
 * about 38 bytes for a device of a browser, platform, application and IPv4 address. Few distinct
 * browsers, platforms and applications exist, so they are interned (at most 65,535 distinct
 * strings per compactor: the table is bounded; a string met after it is full is kept inline).
 * Anything that does not match exactly (another layout, a JSON text that does not print back the
 * same, an Id without its checksum, characters above U+00FF) is kept whole behind a 0x00: every
 * string comes back exactly (`expand(compact(s)) === s`).
 */
const RAW = '\u0000';
const PACKED = '\u0001';
const NULL = 0;
const INTERNED = 1;
const IPV4 = 2;
const INLINE = 3;
const MAX_INTERNED = 0xffff;
const TIME_LIMIT = 2 ** 48;
const DIGITS = /^\d{15}$/;
const IPV4_TEXT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export class DeviceCompactor {
  private readonly index = new Map<string, number>();
  private readonly strings: string[] = [];

  /** Distinct strings interned so far. */
  get interned(): number {
    return this.strings.length;
  }

  compact(packed: string): string {
    return this.tryCompact(packed) ?? RAW + packed;
  }

  expand(compact: string): string {
    if (compact[0] !== PACKED) return compact.slice(1);
    let at = 1;
    let time = 0;
    for (; at < 7; at++) time = time * 256 + compact.charCodeAt(at);
    const id = longId(compact.slice(7, 22));
    const fingerprint = this.strings[u16(compact, 22)];
    const values: (string | null)[] = [];
    for (at = 24; at < compact.length;) {
      const tag = compact.charCodeAt(at++);
      if (tag === NULL) values.push(null);
      else if (tag === INTERNED) {
        values.push(this.strings[u16(compact, at)]);
        at += 2;
      } else if (tag === IPV4) {
        values.push([0, 1, 2, 3].map((i) => compact.charCodeAt(at + i)).join('.'));
        at += 4;
      } else {
        const length = compact.charCodeAt(at);
        values.push(compact.slice(at + 1, at + 1 + length));
        at += 1 + length;
      }
    }
    return `${String(time).padStart(15, '0')}${id}\u0000${fingerprint}${JSON.stringify(values)}`;
  }

  private tryCompact(packed: string): string | undefined {
    if (packed.length < 38 || packed.charCodeAt(33) !== 0) return undefined;
    const digits = packed.slice(0, 15);
    if (!DIGITS.test(digits)) return undefined;
    const time = Number(digits);
    const id15 = shortId(packed.slice(15, 33));
    if (time >= TIME_LIMIT || id15 === undefined) return undefined;
    const json = packed.slice(38);
    let values: unknown;
    try {
      values = JSON.parse(json);
    } catch {
      return undefined;
    }
    if (!Array.isArray(values) || JSON.stringify(values) !== json) return undefined;
    const fingerprint = this.intern(packed.slice(34, 38));
    if (fingerprint === undefined) return undefined;
    let out = PACKED;
    for (let shift = 40; shift >= 0; shift -= 8) out += String.fromCharCode(Math.floor(time / 2 ** shift) % 256);
    out += id15 + fingerprint;
    for (const v of values as unknown[]) {
      const part = this.element(v);
      if (part === undefined) return undefined;
      out += part;
    }
    return out;
  }

  private element(v: unknown): string | undefined {
    if (v === null) return String.fromCharCode(NULL);
    if (typeof v !== 'string') return undefined;
    const ip = ipv4(v);
    if (ip !== undefined) return String.fromCharCode(IPV4) + ip;
    const interned = this.intern(v);
    if (interned !== undefined) return String.fromCharCode(INTERNED) + interned;
    if (v.length > 255 || !latin1(v)) return undefined;
    return String.fromCharCode(INLINE, v.length) + v;
  }

  /** The u16 of `s` in the table, as 2 characters; undefined when the table is full. */
  private intern(s: string): string | undefined {
    let i = this.index.get(s);
    if (i === undefined) {
      if (this.strings.length >= MAX_INTERNED) return undefined;
      i = this.strings.length;
      this.strings.push(s);
      this.index.set(s, i);
    }
    return String.fromCharCode(i >>> 8, i & 0xff);
  }
}

function u16(s: string, at: number): number {
  return (s.charCodeAt(at) << 8) | s.charCodeAt(at + 1);
}

/** The 4 bytes of a dotted IPv4 address written canonically (no leading zeros), else undefined. */
function ipv4(s: string): string | undefined {
  const m = IPV4_TEXT.exec(s);
  if (!m) return undefined;
  let out = '';
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255 || String(n) !== m[i]) return undefined;
    out += String.fromCharCode(n);
  }
  return out;
}

function latin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}
