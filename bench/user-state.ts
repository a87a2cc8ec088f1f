/**
 * Bytes a user of the per-user state (a command, not a test): fills the live index and the latest
 * logins with realistic users (18-char Ids, 22-char content hashes, a device of browser, platform,
 * application and IPv4 address) and prints the ArenaStringMaps' bytes (slots + arena) a user and
 * the time to keep and read a device. BENCH_DIST=<other build>/dist measures another build's code
 * (e.g. the code before a change) in the same way.
 *
 *   node -r ts-node/register/transpile-only bench/user-state.ts [users]
 */
/* eslint-disable @typescript-eslint/no-require-imports -- another build is loaded by path */
import * as path from 'node:path';
import type * as LatestLoginsModule from '../pipeline/latest-logins';
import type * as LiveIndexModule from '../pipeline/kafka/live-index';
import { checksum } from '../pipeline/login-ids';
import type { LoginEventRecord } from '../pipeline/stages';
import { peakRssMb, procMemory } from './support';

const users = Number(process.argv[2] ?? 100_000);
const root = process.env.BENCH_DIST ?? path.join(__dirname, '..');
const { LatestLogins } = require(path.join(root, 'pipeline/latest-logins')) as typeof LatestLoginsModule;
const { LiveIndex } = require(path.join(root, 'pipeline/kafka/live-index')) as typeof LiveIndexModule;

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const B64 = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
const withChecksum = (id15: string) => id15 + checksum(id15);

const store = new LatestLogins(['browser', 'platform', 'application', 'sourceIp']);
const live = new LiveIndex();
const started = process.hrtime.bigint();
for (let i = 0; i < users; i++) {
  const login = {
    id: withChecksum(`0Ya${String(i * 7).padStart(12, '0')}`),
    userId: withChecksum(`005${String(i).padStart(12, '0')}`),
    loginTime: 1_700_000_000_000 + i * 13,
    status: 'Success',
    browser: pick(['Chrome 124', 'Firefox 125', 'Safari 17']),
    platform: pick(['Mac OSX', 'Windows 11', 'Linux']),
    application: 'Browser',
    sourceIp: [0, 1, 2, 3].map(() => Math.floor(rand() * 256)).join('.'),
  } as unknown as LoginEventRecord;
  store.offer(login);
  const hash = Array.from({ length: 22 }, () => pick(B64)).join('');
  live.put(login.userId, { hash, device: store.packed(login.userId), flags: 'YN' });
}
const kept = process.hrtime.bigint();
let chars = 0;
for (const key of live.keys()) chars += live.get(key)?.device?.length ?? 0;
const read = process.hrtime.bigint();
// the maps' own byteLength (slots + arena), whatever the build exposes
const bytes = (o: object, field: string) => (o as unknown as Record<string, { byteLength: number }>)[field].byteLength;
process.stdout.write(
  `${JSON.stringify({
    build: root,
    users,
    liveIndexBytesPerUser: +(bytes(live, 'users') / users).toFixed(1),
    latestLoginsBytesPerUser: +(bytes(store, 'byUser') / users).toFixed(1),
    deviceChars: Math.round(chars / users),
    keepUsPerUser: +(Number(kept - started) / 1e3 / users).toFixed(2),
    readUsPerUser: +(Number(read - kept) / 1e3 / users).toFixed(2),
  })}\n`,
);
// What the process holds for it: the maps are ArrayBuffers; RSS beyond them (and the heap) is native.
{
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round(n / 1048576);
  process.stdout.write(
    `${JSON.stringify({
      peakRssMb: peakRssMb(),
      rssMb: mb(m.rss),
      heapTotalMb: mb(m.heapTotal),
      arrayBuffersMb: mb(m.arrayBuffers),
      proc: procMemory(),
    })}\n`,
  );
}
