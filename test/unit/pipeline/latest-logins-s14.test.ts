import { DeviceCompactor } from '../../../pipeline/packed-device';
import { checksum } from '../../../pipeline/login-ids';
import { DeviceCodec, LatestLogins } from '../../../pipeline/latest-logins';
import { laterSuccessfulLogin, type LoginEventRecord } from '../../../pipeline/stages';
import { mulberry32 } from '../../../simulator/prng';

/**
 * Session 14: a login event's offer compacts its device from the record's fields
 * (DeviceCompactor.compactParts) instead of printing the packed text and reading it back. The old
 * path, `compact(codec.pack(login))`, is the oracle: the same compact string for every login (Ids of
 * every shape, times at and beyond the compact form's limit, values null, absent, strings of every
 * kind, numbers, NaN, booleans, objects), with the intern table filled in the same order; and a
 * LatestLogins keeps, per user, what laterSuccessfulLogin keeps, packed as the codec packs it.
 * Seeded: LOGINS_S14_SEED=n replays.
 */
const SEED = Number(process.env.LOGINS_S14_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const FIELDS = ['browser', 'platform', 'application', 'sourceIp'];

function gen(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => pick([...alphabet])).join('');
  const id = (): string => {
    const s = chars(ALNUM, 15);
    const r = rand();
    if (r < 0.8) return s + checksum(s);
    if (r < 0.85) return s; // the 15-character form
    if (r < 0.9) return s + chars(ALNUM, 3); // a suffix that (mostly) is not the checksum
    return pick(['', 'x', 'é'.repeat(18), `${s.slice(0, 17)}\u0000`, `${s}日本語`, s + checksum(s) + 'A']);
  };
  const value = (): unknown => {
    const r = rand();
    if (r < 0.1) return null;
    if (r < 0.15) return undefined;
    if (r < 0.55) return pick(['Chrome 124', 'Firefox 125', 'Safari', 'Mac OSX', 'Windows 11', 'Browser']);
    if (r < 0.75)
      return rand() < 0.9
        ? [0, 1, 2, 3].map(() => Math.floor(rand() * 256)).join('.')
        : pick(['01.2.3.4', '256.1.1.1', '1.2.3', '2001:db8::1', '']);
    if (r < 0.95)
      return (
        pick(['', '"', '\\', '\u0000', 'é', '日本語', '😀', '\ud800', 'a\tb', 'x'.repeat(300), '\u00ff', 'null']) +
        chars(ALNUM, Math.floor(rand() * 4))
      );
    return pick([42, -0, NaN, Infinity, true, false, { a: 1 }, [1, 'b']]);
  };
  const time = () =>
    rand() < 0.9 ? 1_700_000_000_000 + Math.floor(rand() * 5) * 1000 : pick([0, 2 ** 48 - 1, 2 ** 48, 1e15 - 1]);
  const login = (users: readonly string[]): LoginEventRecord => {
    const rec: Record<string, unknown> = {
      id: id(),
      userId: pick(users),
      loginTime: time(),
      status: rand() < 0.85 ? 'Success' : pick(['Invalid Password', null]),
    };
    for (const f of FIELDS) if (rand() < 0.97) rec[f] = value(); // else absent
    return rec as LoginEventRecord;
  };
  return { pick, id, login };
}

describe(`a login's device compacted from its fields (LOGINS_S14_SEED=${SEED})`, () => {
  it('compactParts, else compact(pack), gives what compact(pack) gives, login for login', () => {
    const rand = mulberry32(SEED);
    const g = gen(rand);
    const codecs = [new DeviceCodec(FIELDS), new DeviceCodec(['sourceIp']), new DeviceCodec([])];
    const parts = new DeviceCompactor();
    const oracle = new DeviceCompactor();
    const users = Array.from({ length: 50 }, () => g.id());
    let compacted = 0;
    for (let i = 0; i < 30_000; i++) {
      const login = g.login(users);
      const codec = g.pick(codecs);
      const packed = codec.pack(login);
      const direct = parts.compactParts(login.loginTime, login.id, codec.fingerprint, codec.values(login));
      if (direct !== undefined) compacted++;
      const got = direct ?? parts.compact(packed);
      expect(got).toBe(oracle.compact(packed));
      expect(parts.expand(got)).toBe(packed);
      expect(parts.interned).toBe(oracle.interned);
    }
    expect(compacted).toBeGreaterThan(10_000); // the usual device takes the direct path
  });

  it('LatestLogins keeps, per user, what laterSuccessfulLogin keeps, packed as the codec packs it', () => {
    const rand = mulberry32(SEED + 1);
    const g = gen(rand);
    const codec = new DeviceCodec(FIELDS);
    const store = new LatestLogins(codec);
    const model = new Map<string, LoginEventRecord>();
    const users = Array.from({ length: 300 }, () => g.id()).filter((u) => u !== '');
    for (let i = 0; i < 20_000; i++) {
      const login = g.login(users);
      if (!Number.isInteger(login.loginTime) || login.loginTime >= 1e15) continue;
      store.offer(login);
      const kept = laterSuccessfulLogin(model.get(login.userId), login);
      if (kept) model.set(login.userId, kept);
    }
    expect(store.size).toBe(model.size);
    for (const [userId, login] of model) expect(store.packed(userId)).toBe(codec.pack(login));
  });

  it('a loginTime that is no epoch millisecond is refused as before', () => {
    const store = new LatestLogins(FIELDS);
    const id = `0Ya5g00000AbCdE${checksum('0Ya5g00000AbCdE')}`;
    for (const t of [-1, 1.5, 1e15, NaN])
      expect(() => store.offer({ id, userId: '005', loginTime: t, status: 'Success' } as LoginEventRecord)).toThrow(
        RangeError,
      );
  });
});
