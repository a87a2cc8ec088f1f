import { DeviceCompactor } from '../../../pipeline/packed-device';
import { checksum } from '../../../pipeline/login-ids';
import { DeviceCodec, LatestLogins } from '../../../pipeline/latest-logins';
import { LiveIndex, type LiveUser } from '../../../pipeline/kafka/live-index';
import { applyEntry, entryValue } from '../../../pipeline/kafka/live-index-topic';
import { laterSuccessfulLogin, type LoginEventRecord } from '../../../pipeline/stages';
import { validFlags } from '../../../pipeline/user-login-flags';
import { mulberry32 } from '../../../simulator/prng';

/**
 * The per-user state kept in compact binary form (pipeline/packed-device.ts, LiveIndex's packed
 * hash) gives back exactly what it was given, against plain Maps as the oracle, for every shape
 * of Id, hash, device, time and string (unicode, empty, quotes, NUL); and an index entry in the
 * index topic's format (unchanged: what operators' `.live-index` topics hold) reads as before.
 * Seeded: COMPACT_SEED=n replays.
 */
const SEED = Number(process.env.COMPACT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64URL = `${ALNUM}-_`;
const FIELDS = ['browser', 'platform', 'application', 'sourceIp'];

function gen(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => pick([...alphabet])).join('');
  const id15 = () => chars(ALNUM, 15);
  const id = (): string => {
    const r = rand();
    if (r < 0.8) return ((s) => s + checksum(s))(id15());
    if (r < 0.9) return id15(); // the 15-character form
    return id15() + chars(ALNUM, 3); // a suffix that (mostly) is not the checksum
  };
  const oddText = () =>
    pick(['', '"', '\\', '\u0000', 'é', 'Ünïcödé', '日本語', '😀', 'a\tb', 'x'.repeat(300), '\u00ff\u0080', 'null']) +
    chars(ALNUM, Math.floor(rand() * 4));
  const ip = () =>
    rand() < 0.9
      ? [0, 1, 2, 3].map(() => Math.floor(rand() * 256)).join('.')
      : pick(['01.2.3.4', '256.1.1.1', '1.2.3', '2001:db8::1', '1.2.3.4.5', '']);
  const value = (): unknown => {
    const r = rand();
    if (r < 0.1) return null;
    if (r < 0.6) return pick(['Chrome 124', 'Firefox 125', 'Safari', 'Mac OSX', 'Windows 11', 'Browser', 'Salesforce']);
    if (r < 0.8) return ip();
    if (r < 0.98) return oddText();
    return pick([42, true, { a: 1 }]); // not a string: kept whole
  };
  const time = () =>
    rand() < 0.9 ? 1_600_000_000_000 + Math.floor(rand() * 2e11) : pick([0, 2 ** 48 - 1, 2 ** 48, 1e15 - 1]);
  const device = (): string => {
    const r = rand();
    const values = FIELDS.map(value);
    const fingerprint = rand() < 0.9 ? pick(['AbCd', 'x_-9']) : chars(B64URL, 4);
    const packed = `${String(time()).padStart(15, '0')}${id()}\u0000${fingerprint}${JSON.stringify(values)}`;
    if (r < 0.9) return packed;
    if (r < 0.95) return packed.slice(0, Math.floor(rand() * packed.length)); // any other string
    return oddText();
  };
  const hash = (): string => {
    const r = rand();
    if (r < 0.85) return chars(B64URL, 22);
    if (r < 0.9) return '';
    if (r < 0.95) return chars(B64URL, Math.floor(rand() * 40));
    return oddText().slice(0, 100);
  };
  const flags = () => pick([undefined, 'YN', 'NY', 'YY', 'NN', '??']);
  return { pick, id, device, hash, flags, time, value };
}

describe(`compact per-user state (COMPACT_SEED=${SEED})`, () => {
  it('DeviceCompactor gives back every string exactly, and packs the usual device small', () => {
    const rand = mulberry32(SEED);
    const g = gen(rand);
    const compactor = new DeviceCompactor();
    const kept: [string, string][] = [];
    for (let i = 0; i < 20_000; i++) {
      const d = g.device();
      const c = compactor.compact(d);
      kept.push([d, c]);
      expect(compactor.expand(c)).toBe(d);
    }
    // the table is shared: what was compacted first still expands the same after more interning
    for (const [d, c] of kept) expect(compactor.expand(c)).toBe(d);
    const loginId = `0Ya5g00000AbCdE${checksum('0Ya5g00000AbCdE')}`;
    const fields = JSON.stringify(['Chrome 124', 'Mac OSX', 'Browser', '203.0.113.7']);
    const usual = `${String(1_700_000_000_000).padStart(15, '0')}${loginId}\u0000AbCd${fields}`;
    expect(compactor.compact(usual).length).toBeLessThanOrEqual(40);
    expect(usual.length).toBeGreaterThan(80);
  });

  it('a full intern table (distinct IPv6 addresses) keeps later strings inline, exactly; a long array whole', () => {
    const rand = mulberry32(SEED ^ 0x5eed);
    const g = gen(rand);
    const compactor = new DeviceCompactor();
    const loginId = `0Ya5g00000AbCdE${checksum('0Ya5g00000AbCdE')}`;
    const device = (values: unknown[]) =>
      `${String(1_700_000_000_000).padStart(15, '0')}${loginId}\u0000AbCd${JSON.stringify(values)}`;
    const kept: [string, string][] = [];
    for (let i = 0; i < 6_000; i++) {
      const hex = (n: number) => n.toString(16);
      const ipv6 = `2001:db8:${hex(i >> 8)}:${hex(i & 255)}::${hex(Math.floor(rand() * 65536))}`;
      const d = device(['Chrome 124', 'Mac OSX', 'Browser', ipv6]);
      kept.push([d, compactor.compact(d)]);
    }
    expect(compactor.interned).toBeLessThanOrEqual(4096);
    for (let i = 0; i < 2_000; i++) {
      const d = g.device();
      kept.push([d, compactor.compact(d)]);
    }
    for (const [d, c] of kept) expect(compactor.expand(c)).toBe(d);
    // the table full, a device of strings met before it filled still packs small
    expect(compactor.compact(device(['Chrome 124', 'Mac OSX', 'Browser', '203.0.113.7'])).length).toBeLessThanOrEqual(
      40,
    );
    const long = device(Array.from({ length: 200_000 }, () => null));
    const c = compactor.compact(long);
    expect(c.charCodeAt(0)).toBe(0); // kept whole: no scratch buffer sized by it
    expect(compactor.expand(c)).toBe(long);
  });

  it('LiveIndex: put, an index-topic entry, take, peekFlags, strike and keys agree with a Map of what was put', () => {
    const rand = mulberry32(SEED + 1);
    const g = gen(rand);
    const live = new LiveIndex();
    const oracle = new Map<string, LiveUser>();
    const keys = Array.from({ length: 2000 }, () => g.id());
    for (let i = 0; i < 30_000; i++) {
      const key = g.pick(keys);
      const r = rand();
      if (r < 0.1) {
        live.put(key, null);
        oracle.delete(key);
      } else if (r < 0.15) {
        const want = oracle.get(key);
        expect(live.take(key)).toEqual(want);
        oracle.delete(key);
      } else if (r < 0.2) {
        const want = oracle.get(key);
        expect(live.peekFlags(key)).toEqual(want && { flags: want.flags });
        expect(live.strike(key)).toBe(oracle.has(key));
        oracle.delete(key);
      } else {
        const user = {
          hash: g.hash(),
          device: rand() < 0.2 ? undefined : g.device(),
          flags: g.flags(),
        };
        // the topic's format (unchanged) says '' for no device and cannot carry a tab in a hash
        const viaTopic = rand() < 0.5 && user.device !== '' && !user.hash.includes('\t');
        if (viaTopic) applyEntry(live, key, entryValue('00D000000000001', user.flags, user.hash, user.device), null);
        else live.put(key, user);
        oracle.set(key, { hash: user.hash, device: user.device, flags: validFlags(user.flags) });
      }
    }
    expect(live.size).toBe(oracle.size);
    expect(new Set(live.keys())).toEqual(new Set(oracle.keys()));
    for (const [k, v] of oracle) expect(live.get(k)).toEqual(v);
  });

  it('LatestLogins keeps, per user, what laterSuccessfulLogin keeps, packed exactly as DeviceCodec packs it', () => {
    const rand = mulberry32(SEED + 2);
    const g = gen(rand);
    const store = new LatestLogins(FIELDS);
    const codec = new DeviceCodec(FIELDS);
    const model = new Map<string, LoginEventRecord>();
    const users = Array.from({ length: 500 }, () => g.id());
    for (let i = 0; i < 10_000; i++) {
      const values = FIELDS.map(g.value).filter((v) => v === null || typeof v === 'string');
      const e = {
        id: g.id(),
        userId: g.pick(users),
        loginTime: rand() < 0.5 ? 1_700_000_000_000 + Math.floor(rand() * 5) * 1000 : g.time(),
        status: rand() < 0.85 ? 'Success' : 'Invalid Password',
        ...Object.fromEntries(FIELDS.map((f, j) => [f, values[j] ?? null])),
      } as LoginEventRecord;
      store.offer(e);
      const kept = laterSuccessfulLogin(model.get(e.userId), e);
      if (kept) model.set(e.userId, kept);
    }
    expect(store.size).toBe(model.size);
    for (const [userId, e] of model) expect(store.packed(userId)).toBe(codec.pack(e));
  });

  it('holds a usual user in at most 100 bytes (live index) and 80 bytes (latest login), slots included', () => {
    const rand = mulberry32(SEED + 3);
    const g = gen(rand);
    const n = 50_000;
    const live = new LiveIndex();
    const store = new LatestLogins(FIELDS);
    const ip = () => [0, 1, 2, 3].map(() => Math.floor(rand() * 256)).join('.');
    for (let i = 0; i < n; i++) {
      const id15 = `005${String(i).padStart(12, '0')}`;
      const login = {
        id: `0Ya${String(i).padStart(12, '0')}` + checksum(`0Ya${String(i).padStart(12, '0')}`),
        userId: id15 + checksum(id15),
        loginTime: 1_700_000_000_000 + i,
        status: 'Success',
        browser: g.pick(['Chrome 124', 'Firefox 125', 'Safari 17']),
        platform: g.pick(['Mac OSX', 'Windows 11', 'Linux']),
        application: 'Browser',
        sourceIp: ip(),
      } as unknown as LoginEventRecord;
      store.offer(login);
      live.put(login.userId, {
        hash: g.hash().padEnd(22, 'A').slice(0, 22),
        device: store.packed(login.userId),
        flags: 'YN',
      });
    }
    const perUser = (bytes: number) => Math.round(bytes / n);
    console.log(`bytes a user: live index ${perUser(live.byteLength)}, latest logins ${perUser(store.byteLength)}`);
    expect(perUser(live.byteLength)).toBeLessThanOrEqual(100);
    expect(perUser(store.byteLength)).toBeLessThanOrEqual(80);
  });
});
