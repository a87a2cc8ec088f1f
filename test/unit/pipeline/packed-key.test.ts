import { checksum, packKey, unpackKey } from '../../../pipeline/login-ids';
import { LatestLogins } from '../../../pipeline/latest-logins';
import { LiveIndex, type LiveUser } from '../../../pipeline/kafka/live-index';
import type { LoginEventRecord } from '../../../pipeline/stages';
import { validFlags } from '../../../pipeline/user-login-flags';
import { mulberry32 } from '../../../simulator/prng';

/**
 * A user key as the off-heap maps hold it (issue 15: the live index at ~91 bytes a user): a valid
 * Salesforce Id in 12 bytes (its 15 case-sensitive base-62 characters; the 3-character checksum of
 * an 18-character Id is derived), any other string as itself. Every key comes back byte-identical,
 * and no two keys share a held form. Seeded: KEY_SEED=n replays.
 */
const SEED = Number(process.env.KEY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function keys(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => pick([...alphabet])).join('');
  const latin1 = (n: number) => Array.from({ length: n }, () => String.fromCharCode(Math.floor(rand() * 256))).join('');
  const edge = [
    '',
    '\u007f',
    '\u0080',
    '\u00ff'.repeat(12),
    '\u007f'.repeat(13),
    'ü-user',
    '日本語の利用者',
    '😀',
    '0'.repeat(15),
    'z'.repeat(15),
    '0'.repeat(18),
    'z'.repeat(15) + checksum('z'.repeat(15)),
    'x'.repeat(300),
  ];
  return (): string => {
    const r = rand();
    const id15 = chars(ALNUM, 15);
    if (r < 0.6) return id15 + checksum(id15); // a valid 18-character Id
    if (r < 0.7) return id15; // the 15-character form
    if (r < 0.75) return id15 + chars(ALNUM, 3); // a suffix that (mostly) is not the checksum
    if (r < 0.8) return chars(`${ALNUM}-_.!`, 18); // not base 62: kept as itself
    if (r < 0.85) return id15.slice(0, 14) + '\u00e9' + checksum(id15); // one non-ASCII character
    if (r < 0.95) return latin1(Math.floor(rand() * 20)); // anything: what a packed form looks like, too
    return pick(edge) + (rand() < 0.5 ? '' : chars(ALNUM, Math.floor(rand() * 4)));
  };
}

describe(`user keys packed for the off-heap maps (KEY_SEED=${SEED})`, () => {
  it('every key comes back exactly, no two share a packed form, and a valid Id takes 12 bytes', () => {
    const next = keys(mulberry32(SEED));
    const held = new Map<string, string>();
    for (let i = 0; i < 200_000; i++) {
      const key = next();
      const packed = packKey(key);
      if (unpackKey(packed) !== key) expect({ key, back: unpackKey(packed) }).toEqual({ key, back: key });
      const other = held.get(packed);
      if (other !== undefined && other !== key) expect({ packed, key }).toEqual({ packed, key: other });
      held.set(packed, key);
      const valid =
        /^[0-9A-Za-z]{15}$/.test(key.slice(0, 15)) &&
        (key.length === 15 || (key.length === 18 && key.slice(15) === checksum(key.slice(0, 15))));
      if (valid && packed.length !== 12) expect({ key, length: packed.length }).toEqual({ key, length: 12 });
    }
  });

  it('LiveIndex and LatestLogins agree with a Map under any key, and give back every key exactly', () => {
    const rand = mulberry32(SEED + 1);
    const next = keys(rand);
    const pool = Array.from({ length: 3000 }, next);
    const live = new LiveIndex();
    const oracle = new Map<string, LiveUser>();
    const logins = new LatestLogins(['browser']);
    const latest = new Map<string, string>();
    for (let i = 0; i < 40_000; i++) {
      const key = pool[Math.floor(rand() * pool.length)];
      const r = rand();
      if (r < 0.1) {
        live.put(key, null);
        oracle.delete(key);
      } else if (r < 0.2) {
        expect(live.take(key)).toEqual(oracle.get(key));
        oracle.delete(key);
      } else if (r < 0.3) {
        expect(live.strike(key)).toBe(oracle.delete(key));
      } else if (r < 0.4) {
        expect(live.peekFlags(key)).toEqual(oracle.has(key) ? { flags: oracle.get(key)!.flags } : undefined);
      } else if (r < 0.7) {
        const user = { hash: `h${i}`.padEnd(22, 'Q'), device: undefined, flags: rand() < 0.5 ? 'YN' : undefined };
        live.put(key, user);
        oracle.set(key, { ...user, flags: validFlags(user.flags) });
      } else {
        const time = 1_700_000_000_000 + Math.floor(rand() * 1e6);
        const login = {
          id: `0Ya${String(i).padStart(12, '0')}`,
          userId: key,
          loginTime: time,
          status: 'Success',
          browser: 'B',
        };
        logins.offer(login as unknown as LoginEventRecord);
        const was = latest.get(key);
        if (was === undefined || was < `${time}`) latest.set(key, `${time}`);
      }
    }
    expect(live.size).toBe(oracle.size);
    expect(new Set(live.keys())).toEqual(new Set(oracle.keys()));
    for (const [k, v] of oracle) expect(live.get(k)).toEqual(v);
    expect(logins.size).toBe(latest.size);
    for (const [k, t] of latest) expect(logins.get(k)?.loginTime).toBe(Number(t));
  });

  it('a usual user takes at most 84 bytes in the live index and 64 in the latest logins, slots included', () => {
    const n = 200_000; // a 1 MiB chunk is 5 bytes a user
    const live = new LiveIndex();
    const store = new LatestLogins(['browser', 'platform', 'application', 'sourceIp']);
    for (let i = 0; i < n; i++) {
      const id15 = `005${String(i).padStart(12, '0')}`;
      const lid = `0Ya${String(i).padStart(12, '0')}`;
      const login = {
        id: lid + checksum(lid),
        userId: id15 + checksum(id15),
        loginTime: 1_700_000_000_000 + i,
        status: 'Success',
        browser: ['Chrome 124', 'Firefox 125', 'Safari 17'][i % 3],
        platform: ['Mac OSX', 'Windows 11', 'Linux'][i % 3],
        application: 'Browser',
        sourceIp: `10.${i % 256}.${(i >> 8) % 256}.7`,
      } as unknown as LoginEventRecord;
      store.offer(login);
      live.put(login.userId, { hash: 'AbCdEfGhIjKlMnOpQrStUv', device: store.packed(login.userId), flags: 'YN' });
    }
    const perUser = (bytes: number) => Math.round(bytes / n);
    console.log(`bytes a user: live index ${perUser(live.byteLength)}, latest logins ${perUser(store.byteLength)}`);
    expect({ live: perUser(live.byteLength) <= 84, latest: perUser(store.byteLength) <= 64 }).toEqual({
      live: true,
      latest: true,
    });
  });
});
