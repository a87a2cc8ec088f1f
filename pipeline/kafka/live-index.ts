import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { ArenaStringMap } from '../../kernel/compact-map';
import { DeviceCompactor } from '../packed-device';
import { longId, packKey, unpackKey } from '../login-ids';
import type { Logger } from '../../kernel/logger';
import { validFlags } from '../user-login-flags';
import { HEADERS } from '../../schemas/topics';
import { readToEnd, type ReadToEndOptions } from './read-to-end';

const NO_FLAGS = '--';

/** What the live index knows of a user: the last record's content hash, device and UserLogin flags. */
export interface LiveUser {
  hash: string;
  device: string | undefined;
  /** Packed UserLogin flags (user-login-flags.ts), undefined when the record did not know them. */
  flags: string | undefined;
}

/**
 * The users this connector has imported and not yet removed: the latest record per key in the
 * compacted users topic, when that record is not a tombstone and was published by this
 * connector for this org. Kafka is the source of truth, so a run on a new host knows the same
 * set, and connectors sharing a topic each see only their own users.
 *
 * Per user Id it keeps the content hash of the last published value (header
 * neurons-content-hash), which lets a run skip users whose content did not change, and the
 * device that value carried (header neurons-device, see DeviceCodec), which a republished user
 * keeps when the run saw no newer login for them, and the UserLogin flags it carried (header
 * neurons-user-login), which a run that cannot read UserLogin keeps. All are held off the V8 heap
 * in one ArenaStringMap entry per user, as latin1 bytes: `<flags, 2 chars, '--' unknown><hash>
 * [<device>]`, the hash as 0x00 and the 17 bytes of its 22 base64url characters, or as its length
 * + 32 (1 char) and the hash itself when it is not such a hash; the device in its compact form
 * (pipeline/packed-device.ts). ~90 bytes a user with a device and its slots (~150 with the packed
 * string; 44 + 116 bytes of fixed-width slots, at a load of 0.35 to 0.7, before that). Only the
 * memory form changed: the headers and the index topic hold what they held.
 *
 * Records of this connector that name another org (header neurons-source-org) are not live: a
 * run counts them in `foreignOrgs`, and refuses while the state is not bound to its org.
 */
export class LiveIndex {
  /** key → flags, hash and device, packed (see pack). */
  private readonly users = new ArenaStringMap();
  private readonly devices = new DeviceCompactor();
  /** Latest record per key that belongs to another org of this connector: key → org Id. */
  private readonly foreign = new Map<string, string>();

  get size(): number {
    return this.users.size;
  }

  /** Bytes held off the heap (slots and arena). */
  get byteLength(): number {
    return this.users.byteLength;
  }

  /**
   * What a checkpoint keeps of this index (index-checkpoint.ts): the arena of the users, the device
   * table its compacted devices name by index, the other orgs' keys. To read, never to change.
   */
  get parts(): { users: ArenaStringMap; table: readonly string[]; foreign: ReadonlyMap<string, string> } {
    return { users: this.users, table: this.devices.table, foreign: this.foreign };
  }

  /** Drops every entry, the arena's chunks given back to the pool: an index not used (a refused checkpoint's). */
  dispose(): void {
    this.users.clear();
    this.foreign.clear();
  }

  /**
   * The held form of two fixed users (packed key, hash, device and flags, and the device table), as
   * latin1: a checkpoint holds entries in this form, so one written by a build that holds them
   * otherwise (packKey, packHash, the device compactor changed) is refused, not misread.
   */
  static formatProbe(): string {
    probeOfThisBuild ??= LiveIndex.probe();
    return probeOfThisBuild;
  }

  private static probe(): string {
    const probe = new LiveIndex();
    const id = longId('005000000000001');
    const device = `000001700000000${id}\u0000abcd${JSON.stringify(['Chrome 120', 'Mac OS', null, '10.1.2.3', 'x'])}`;
    probe.put(id, { hash: 'AbCdEfGhIjKlMnOpQrStU_', device, flags: 'tf' });
    probe.put('probe-\u00e9', { hash: 'not-a-hash', device: `${device.slice(0, 37)}["::1"]`, flags: undefined });
    const entries: string[] = [];
    probe.users.forEachRaw((buf, keyAt, keyLength, valueAt, valueLength) => {
      entries.push(
        `${buf.toString('latin1', keyAt, keyAt + keyLength)}=${buf.toString('latin1', valueAt, valueAt + valueLength)}`,
      );
    });
    const text = [...entries.sort(), ...probe.devices.table].join('\u0001');
    probe.dispose();
    return text;
  }

  /**
   * An index from a checkpoint's parts: the device table first (the entries name its indexes),
   * room for `entries`, then `fill` puts the arena's entries in, then the overflow's.
   */
  static restore(
    table: readonly string[],
    foreign: Iterable<[string, string]>,
    overflow: Iterable<[string, string]>,
    entries: number,
    fill: (users: ArenaStringMap) => void,
  ): LiveIndex {
    const index = new LiveIndex();
    index.devices.restoreTable(table);
    index.users.reserve(entries);
    try {
      fill(index.users);
    } catch (err) {
      index.dispose();
      throw err;
    }
    for (const [k, v] of overflow) index.users.set(k, v);
    for (const [k, org] of foreign) index.foreign.set(k, org);
    return index;
  }

  /** Room for `users` keys at once (ArenaStringMap.reserve): a load of a known record count grows no table. */
  reserve(users: number): void {
    this.users.reserve(users);
  }

  /** Back to the table growth would have reached, after a `reserve` for more users than came. */
  fit(): void {
    this.users.fit();
  }

  /** Records the latest record of `key`: live (hash, device, flags), a tombstone or not ours
   *  (null), or another org's. */
  put(key: string, value: { hash: string; device?: string; flags?: string } | null, foreignOrg?: string): void {
    if (this.foreign.size > 0) this.foreign.delete(key);
    if (value === null) {
      this.users.delete(packKey(key));
      if (foreignOrg !== undefined) this.foreign.set(key, foreignOrg);
      return;
    }
    const flags = validFlags(value.flags) ?? NO_FLAGS;
    const device = value.device === undefined ? '' : this.devices.compact(value.device);
    this.users.set(packKey(key), `${flags}${packHash(value.hash)}${device}`);
  }

  has(key: string): boolean {
    return this.users.has(packKey(key));
  }

  get(key: string): LiveUser | undefined {
    return this.unpack(this.users.get(packKey(key)));
  }

  private unpack(v: string | undefined): LiveUser | undefined {
    if (v === undefined) return undefined;
    const flags = v.slice(0, 2);
    const hashEnd = v.charCodeAt(2) === 0 ? 3 + HASH_BYTES : 3 + v.charCodeAt(2) - 32;
    const hash = v.charCodeAt(2) === 0 ? unpackHash(v.slice(3, hashEnd)) : v.slice(3, hashEnd);
    const device = v.length > hashEnd ? this.devices.expand(v.slice(hashEnd)) : undefined;
    return { hash, device, flags: flags === NO_FLAGS ? undefined : flags };
  }

  /** Strikes a user seen in this run; returns what was known of them. */
  take(key: string): LiveUser | undefined {
    const held = packKey(key);
    const known = this.unpack(this.users.get(held));
    if (known) this.users.strike(held); // the run's index: struck, never compacted (ArenaStringMap.strike)
    return known;
  }

  /** A live user's UserLogin flags, its hash and device left undecoded; undefined when not live. */
  peekFlags(key: string): { flags: string | undefined } | undefined {
    const v = this.users.get(packKey(key));
    if (v === undefined) return undefined;
    const flags = v.slice(0, 2);
    return { flags: flags === NO_FLAGS ? undefined : flags };
  }

  /** Strikes a user seen in this run without decoding what was known: whether it was live. */
  strike(key: string): boolean {
    return this.users.strike(packKey(key));
  }

  *keys(): IterableIterator<string> {
    for (const held of this.users.keys()) yield unpackKey(held);
  }

  /** The other org whose user `key` is (its latest record is this connector's, for that org). */
  foreignOrg(key: string): string | undefined {
    return this.foreign.get(key);
  }

  /** Keys whose latest record is this connector's for another org. */
  foreignKeys(): IterableIterator<string> {
    return this.foreign.keys();
  }

  /** Live users per other org Id published under this connector's name. */
  foreignOrgs(): Map<string, number> {
    const out = new Map<string, number>();
    for (const org of this.foreign.values()) out.set(org, (out.get(org) ?? 0) + 1);
    return out;
  }
}

let probeOfThisBuild: string | undefined;

const HASH_CHARS = 22;
/** 22 base64url characters are 132 bits: with `AA` they decode to 18 bytes whose last is always 0, so 17 are held. */
const HASH_BYTES = 17;

/** Each base64url character's 6 bits (-1: not base64url). */
const B64URL = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries())
  B64URL[c.charCodeAt(0)] = i;

/**
 * A content hash (22 base64url characters, pipeline/records.ts) as 0x00 + 17 bytes; else length + 32 and itself.
 * The 17 bytes are what `Buffer.from(hash + 'AA', 'base64url')` gives (132 bits and 4 zero bits),
 * decoded here character by character: the Buffer round trip (two Buffers, two strings) was ~0.6 µs
 * of the ~8 µs a users index entry costs to load (bench/routine-index-load.ts, --cpu-prof at 300k).
 * A hash with any other character is kept as itself, as before (live-index-s12.test.ts, against the
 * Buffer round trip kept as test/support/pack-hash-reference.ts).
 */
export function packHash(hash: string): string {
  if (hash.length === HASH_CHARS) {
    const bytes = new Array<number>(HASH_BYTES);
    let bits = 0;
    let held = 0;
    let n = 0;
    for (let i = 0; i < HASH_CHARS; i++) {
      const c = hash.charCodeAt(i);
      const v = c < 128 ? B64URL[c] : -1;
      if (v < 0) return `${String.fromCharCode(32 + hash.length)}${hash}`;
      bits = ((bits << 6) | v) & 0xfff;
      held += 6;
      if (held >= 8) {
        held -= 8;
        bytes[n++] = (bits >> held) & 0xff;
      }
    }
    // 22 characters are 132 bits: 16 bytes and 4 bits, the last byte's low 4 bits zero
    bytes[n] = (bits << (8 - held)) & 0xff;
    return `\u0000${String.fromCharCode(...bytes)}`;
  }
  return `${String.fromCharCode(32 + hash.length)}${hash}`;
}

function unpackHash(bytes: string): string {
  return Buffer.from(`${bytes}\u0000`, 'latin1').toString('base64url').slice(0, HASH_CHARS);
}

/**
 * Reads the live index. `orgId`: the org the connector is bound to; records of this connector
 * for another org are kept apart (null: accept every org, the behaviour before org binding).
 */
export async function readLiveIndex(
  kafka: Kafka,
  topic: string,
  connector: string,
  decodeKey: (key: Buffer) => string,
  logger: Logger,
  orgId: string | null = null,
  opts: ReadToEndOptions = {},
  /** What the keys are, for the log lines (a declared stream's name; default: users). */
  what = 'users',
): Promise<LiveIndex> {
  const live = new LiveIndex();
  const apply = usersRecordApplier(live, topic, connector, decodeKey, logger, orgId, undefined, what);
  await readToEnd(kafka, topic, apply.onMessage, undefined, opts);
  const skipped = apply.skipped() ? { skipped: apply.skipped() } : {};
  logger.info(`read the live ${what} from the ${what} topic`, { topic, live: live.size, ...skipped });
  return live;
}

/**
 * What one users-topic record does to the live index (the latest record per key wins): a value
 * of this connector for this org is live, anything else is not. `onKey` hears every key applied.
 */
export function usersRecordApplier(
  live: LiveIndex,
  topic: string,
  connector: string,
  decodeKey: (key: Buffer) => string,
  logger: Logger,
  orgId: string | null,
  onKey?: (key: string) => void,
  /** What the keys are, for the log lines (a declared stream's name; default: users). */
  what = 'users',
): { onMessage: (m: KafkaMessage, partition: number) => void; skipped: () => number } {
  let skipped = 0;
  const onMessage = (m: KafkaMessage, partition: number) => {
    if (!m.key) return;
    let key: string;
    try {
      key = decodeKey(m.key);
    } catch (err) {
      // one bad key must not stop every later run: it is nobody's user
      skipped++;
      const error = (err as Error).message;
      const where = { topic, partition, offset: m.offset, error };
      logger.warn(`skipped a ${what}-topic record whose key does not decode`, where);
      return;
    }
    onKey?.(key);
    if (m.value === null || header(m.headers, HEADERS.connector) !== connector) return live.put(key, null);
    const org = header(m.headers, HEADERS.org);
    if (orgId !== null && org !== undefined && org !== orgId) return live.put(key, null, org);
    const hash = header(m.headers, HEADERS.contentHash) ?? '';
    live.put(key, { hash, device: header(m.headers, HEADERS.device), flags: header(m.headers, HEADERS.userLogin) });
  };
  return { onMessage, skipped: () => skipped };
}

export function header(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

/** The compacted side topic that holds the live index of the users topic `users`. */
export const indexTopicOf = (users: string): string => `${users}.live-index`;
