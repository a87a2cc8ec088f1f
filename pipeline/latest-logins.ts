import { createHash } from 'node:crypto';
import { ArenaStringMap, fitsArenaKey, fitsArenaValue } from '../kernel/compact-map';
import { DeviceCompactor } from './packed-device';
import { packKey } from './login-ids';
import type { LoginEventRecord } from './stages';

/**
 * A user's device: the kept fields of their latest successful login, packed in one short ASCII
 * string, `<loginTime, 15 digits><login Id>\0<fields fingerprint, 4 chars><JSON array of the kept
 * fields>`. The same string is kept per user during a run (LatestLogins), carried on each
 * published user record (header neurons-device) and read back into the live index, so a user
 * republished without a new login keeps the device the org last showed (promise 1). The packed
 * prefix orders devices exactly as laterSuccessfulLogin does (later time, then larger Id), so two
 * devices compare without unpacking. The fingerprint names the kept fields: a device packed for
 * another field list (a mapping change) is not read as this one.
 */
export class DeviceCodec {
  readonly fingerprint: string;

  /** `fields`: the login record fields the merge reads (besides id, userId, loginTime, status). */
  constructor(readonly fields: readonly string[]) {
    this.fingerprint = createHash('sha256').update(fields.join(',')).digest('base64url').slice(0, 4);
  }

  pack(login: LoginEventRecord): string {
    return `${orderKey(login)}\0${this.fingerprint}${JSON.stringify(this.values(login))}`;
  }

  /** The kept fields' values of `login`, in order (null for a field it lacks). */
  values(login: LoginEventRecord): unknown[] {
    const values: unknown[] = new Array(this.fields.length);
    for (let i = 0; i < this.fields.length; i++) values[i] = login[this.fields[i]] ?? null;
    return values;
  }

  /** A device this codec can read (packed for the same fields), else undefined. */
  valid(packed: string | undefined): string | undefined {
    if (packed === undefined) return undefined;
    const split = packed.indexOf('\0');
    return split >= 16 && packed.startsWith(this.fingerprint, split + 1) ? packed : undefined;
  }

  /** The device as a login record (the kept fields only), or null. */
  unpack(userId: string, packed: string | undefined): LoginEventRecord | null {
    if (this.valid(packed) === undefined) return null;
    const p = packed!;
    const split = p.indexOf('\0');
    const values = JSON.parse(p.slice(split + 1 + this.fingerprint.length)) as unknown[];
    const record: Record<string, unknown> = {
      id: p.slice(15, split),
      userId,
      loginTime: Number(p.slice(0, 15)),
      status: 'Success',
    };
    this.fields.forEach((f, i) => (record[f] = values[i] ?? null));
    return record as LoginEventRecord;
  }

  /** The later of two packed devices (either may be undefined). */
  static later(a: string | undefined, b: string | undefined): string | undefined {
    if (a === undefined) return b;
    if (b === undefined) return a;
    return a.slice(0, a.indexOf('\0')) >= b.slice(0, b.indexOf('\0')) ? a : b;
  }
}

/**
 * Each user's latest successful login during a run: what the user records' device fields are
 * merged from. One entry per user with a login, kept small and off the V8 heap: the packed device
 * (see DeviceCodec) in its compact form (pipeline/packed-device.ts: time and Id as bytes, browser,
 * platform and application interned, an IPv4 address in 4 bytes) in an ArenaStringMap, ~70 bytes a
 * user with its slots (~130 as the packed string; a Map of strings took ~190 bytes of heap a user,
 * plus the collector's headroom).
 */
export class LatestLogins {
  private readonly byUser = new ArenaStringMap();
  private readonly compactor = new DeviceCompactor();
  readonly codec: DeviceCodec;

  constructor(fields: readonly string[] | DeviceCodec) {
    this.codec = fields instanceof DeviceCodec ? fields : new DeviceCodec(fields);
  }

  get size(): number {
    return this.byUser.size;
  }

  /** Bytes held off the heap (slots and arena). */
  get byteLength(): number {
    return this.byUser.byteLength;
  }

  /** Keeps `login` if it is this user's latest successful login so far. */
  offer(login: LoginEventRecord): void {
    // Failed attempts may come from someone else's device (laterSuccessfulLogin).
    if (login.status !== 'Success') return;
    const key = packKey(login.userId);
    const held = this.byUser.get(key);
    if (held !== undefined) {
      // Most offers are decided on time alone, read from the compact bytes without expanding the
      // device (~3 µs); a tie is decided by the whole order key (time, then login Id).
      const time = this.compactor.timeOf(held);
      if (time === undefined || time === login.loginTime) {
        const current = this.compactor.expand(held);
        if (current.slice(0, current.indexOf('\0')) >= orderKey(login)) return;
      } else if (time > login.loginTime) return;
    }
    // The device compacted from the login's fields, the same string as compacting its packed text
    // (DeviceCompactor.compactParts), which is printed only for a device the compact form cannot hold.
    const device =
      this.compactor.compactParts(checkedTime(login), login.id, this.codec.fingerprint, this.codec.values(login)) ??
      this.compactor.compact(this.codec.pack(login));
    // The map copies both strings into its arena: no slice of the CSV parser's decoded chunk stays
    // alive (one would keep the whole chunk). When either does not fit the arena (not latin1, too
    // long), BOTH go into its overflow Map as they are (ArenaStringMap.set), so both are copied then.
    const inArena = fitsArenaKey(key) && fitsArenaValue(device);
    this.byUser.set(inArena ? key : ownCopy(key), inArena ? device : ownCopy(device));
  }

  /** The user's latest successful login this run, packed, or undefined. */
  packed(userId: string): string | undefined {
    const held = this.byUser.get(packKey(userId));
    return held === undefined ? undefined : this.compactor.expand(held);
  }

  /** The user's latest successful login (the kept fields only), or null. */
  get(userId: string): LoginEventRecord | null {
    return this.codec.unpack(userId, this.packed(userId));
  }
}

function orderKey(login: LoginEventRecord): string {
  return `${String(checkedTime(login)).padStart(15, '0')}${login.id}`;
}

/** The login's time, an epoch millisecond that takes 15 digits; a RangeError for anything else. */
function checkedTime(login: LoginEventRecord): number {
  if (!Number.isInteger(login.loginTime) || login.loginTime < 0 || login.loginTime >= 1e15)
    throw new RangeError(`login ${login.id}: loginTime ${login.loginTime} is not an epoch millisecond`);
  return login.loginTime;
}

/** A copy of `s` that shares no memory with a longer string it may be a slice of. */
function ownCopy(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
