import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CheckpointRefused,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointHeader,
} from '../../../pipeline/kafka/index-checkpoint';
import { LiveIndex, type LiveUser } from '../../../pipeline/kafka/live-index';
import { longId } from '../../../pipeline/login-ids';
import { arenaChunks } from '../../../kernel/compact-map';
import { seededRandom } from '../../support/sync-oracle';

/**
 * A live index's checkpoint (issue 15, session 21: pipeline/kafka/index-checkpoint.ts) reads back
 * as the very index that was written: every key with its hash, device and flags, the other orgs'
 * keys, entries beside the arena (characters beyond latin1), and a device table in its order (a
 * compacted device names its strings by index). A file that is not whole and unchanged is refused,
 * never read as another index: each byte flipped, each cut, another connector, topic or org.
 * Random indexes; replay with SYNC_SEED=<n>.
 */
const ORG = '00D000000000001EAA';
const expect_ = { connector: 'ckpt', indexTopic: 'users.live-index', orgId: ORG };
const header: CheckpointHeader = {
  ...expect_,
  last: { offset: '41', digest: 'abc' },
  next: '42',
  readAt: 1_764_000_000_000,
  mark: { topic: 'users', offsets: { '0': '17' } },
};

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomIndex(
  rnd: ReturnType<typeof seededRandom>,
  users: number,
): { live: LiveIndex; truth: Map<string, LiveUser | string> } {
  const live = new LiveIndex();
  const truth = new Map<string, LiveUser | string>();
  const browsers = ['Chrome 120', 'Firefox 121', 'Safari 17', 'Edge', 'Ünïcödé ☃', null];
  for (let i = 0; i < users; i++) {
    let id15 = '005';
    for (let c = 0; c < 12; c++) id15 += rnd.pick([...B62]);
    const key = rnd.next() < 0.9 ? longId(id15) : `odd-key-${i}-${rnd.pick(['é', '☃', 'x'])}`;
    if (rnd.next() < 0.05) {
      const org = rnd.pick(['00D000000000002EAA', '00D000000000003EAA']);
      live.put(key, null, org);
      truth.set(key, org);
      continue;
    }
    let hash = '';
    const hashLength = rnd.pick([22, 22, 22, 10, 0]);
    for (let c = 0; c < hashLength; c++) hash += rnd.pick([...B62, '-', '_', ...(rnd.next() < 0.02 ? ['€'] : [])]);
    let device: string | undefined;
    if (rnd.next() < 0.8) {
      const time = String(Math.floor(rnd.next() * 1e15)).padStart(15, '0');
      const ip =
        rnd.next() < 0.7
          ? `${rnd.pick(['10', '192', '0'])}.${Math.floor(rnd.next() * 256)}.1.${Math.floor(rnd.next() * 300)}`
          : '::1';
      const values = JSON.stringify([rnd.pick(browsers), rnd.pick(['Mac', 'Win', null]), ip]);
      device = `${time}${longId(id15)}\u0000${rnd.pick(['abcd', 'wxyz', 'f00d'])}${values}`;
    }
    const flags = rnd.pick([undefined, 'tf', 'ff', 'tt']);
    const user = { hash, device, flags };
    live.put(key, user);
    truth.set(key, user);
  }
  return { live, truth };
}

function contents(live: LiveIndex): Map<string, LiveUser | string> {
  const out = new Map<string, LiveUser | string>();
  for (const k of live.keys()) out.set(k, live.get(k)!);
  for (const k of live.foreignKeys()) out.set(k, live.foreignOrg(k)!);
  return out;
}

it('reads back every key, hash, device, flags and other org as written', () => {
  const rnd = seededRandom('index-checkpoint round trip');
  for (let round = 0; round < 5; round++) {
    const { live, truth } = randomIndex(rnd, 1 + Math.floor(rnd.next() * 3000));
    // what the index holds is what was put (the oracle), then the checkpoint holds the same
    expect(contents(live)).toEqual(truth);
    const file = path.join(dir, `r${round}`);
    writeCheckpoint(file, header, live);
    const back = readCheckpoint(file, expect_)!;
    expect({ seed: rnd.seed, header: back.header }).toEqual({ seed: rnd.seed, header });
    expect(contents(back.live)).toEqual(truth);
    expect(back.live.size).toBe(live.size);
    // the restored index goes on as a loaded one: a put replaces, a strike removes
    const [first] = truth.keys();
    if (typeof truth.get(first) !== 'string') {
      back.live.put(first, { hash: 'h', device: undefined, flags: undefined });
      expect(back.live.get(first)).toEqual({ hash: 'h', device: undefined, flags: undefined });
      expect(back.live.strike(first)).toBe(true);
      expect(back.live.has(first)).toBe(false);
    }
  }
});

it('reads back the same whatever the read buffer, an entry cut at every place by its boundaries', () => {
  const rnd = seededRandom('index-checkpoint buffer boundaries');
  const { live, truth } = randomIndex(rnd, 300);
  const file = path.join(dir, 'small-reads');
  writeCheckpoint(file, header, live);
  for (const ioBytes of [1, 2, 3, 5, 7, 16, 61, 97, 256, 1000, 4093]) {
    expect({ seed: rnd.seed, ioBytes, live: contents(readCheckpoint(file, expect_, ioBytes)!.live) }).toEqual({
      seed: rnd.seed,
      ioBytes,
      live: truth,
    });
  }
});

it('reads back a checkpoint larger than its 1 MiB read buffer', () => {
  const rnd = seededRandom('index-checkpoint large');
  const { live, truth } = randomIndex(rnd, 20_000);
  const file = path.join(dir, 'large');
  writeCheckpoint(file, header, live);
  expect(fs.statSync(file).size).toBeGreaterThan(1.2 * 2 ** 20);
  expect(contents(readCheckpoint(file, expect_)!.live)).toEqual(truth);
});

it('an empty index reads back empty; no file reads as none', () => {
  const file = path.join(dir, 'empty');
  writeCheckpoint(file, header, new LiveIndex());
  expect(readCheckpoint(file, expect_)!.live.size).toBe(0);
  expect(readCheckpoint(path.join(dir, 'absent'), expect_)).toBeUndefined();
});

it('refuses a checkpoint of another connector, index topic or org', () => {
  const file = path.join(dir, 'other');
  writeCheckpoint(file, header, randomIndex(seededRandom('index-checkpoint other'), 50).live);
  for (const wrong of [
    { connector: 'x' },
    { indexTopic: 'y.live-index' },
    { orgId: null },
    { orgId: '00D000000000009EAA' },
  ]) {
    expect(() => readCheckpoint(file, { ...expect_, ...wrong })).toThrow(CheckpointRefused);
  }
});

it('refuses every cut and every flipped byte, never reading them as an index', () => {
  const rnd = seededRandom('index-checkpoint damage');
  const { live } = randomIndex(rnd, 400);
  const file = path.join(dir, 'whole');
  writeCheckpoint(file, header, live);
  const whole = fs.readFileSync(file);
  const damaged = path.join(dir, 'damaged');
  const cuts = [0, 1, 8, 11, whole.length - 1, whole.length - 4, whole.length - 8];
  for (let i = 0; i < 60; i++) cuts.push(Math.floor(rnd.next() * whole.length));
  for (const cut of cuts) {
    fs.writeFileSync(damaged, whole.subarray(0, cut));
    expect(() => readCheckpoint(damaged, expect_)).toThrow(CheckpointRefused);
  }
  for (let i = 0; i < 300; i++) {
    const copy = Buffer.from(whole);
    const at = Math.floor(rnd.next() * copy.length);
    copy[at] ^= 1 + Math.floor(rnd.next() * 255);
    fs.writeFileSync(damaged, copy);
    expect({ seed: rnd.seed, at, read: attempt(damaged) }).toEqual({ seed: rnd.seed, at, read: 'refused' });
  }
  fs.writeFileSync(damaged, Buffer.concat([whole, Buffer.from([0])]));
  expect(() => readCheckpoint(damaged, expect_)).toThrow(CheckpointRefused);
});

function attempt(file: string): string {
  try {
    readCheckpoint(file, expect_);
    return 'read';
  } catch (err) {
    return err instanceof CheckpointRefused ? 'refused' : `threw ${(err as Error).message}`;
  }
}

it('writes the file for its owner only, and leaves no temporary file', () => {
  const file = path.join(dir, 'mode');
  writeCheckpoint(file, header, new LiveIndex());
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readdirSync(dir)).toEqual(['mode']);
});

it('refuses a checkpoint written by a build that holds entries in another form', () => {
  const file = path.join(dir, 'other-build');
  writeCheckpoint(file, header, randomIndex(seededRandom('index-checkpoint other build'), 50).live);
  expect(readCheckpoint(file, expect_)).toBeDefined();
  // another build: its packed keys, hashes or devices differ, so its probe of the same users does
  jest.spyOn(LiveIndex, 'formatProbe').mockReturnValue('another form');
  try {
    expect(() => readCheckpoint(file, expect_)).toThrow(/another build/);
  } finally {
    jest.restoreAllMocks();
  }
});

it('a checkpoint that cannot be read is refused, never a failure of the load', () => {
  const file = path.join(dir, 'a-directory');
  fs.mkdirSync(file);
  expect(() => readCheckpoint(file, expect_)).toThrow(CheckpointRefused);
});

it('a write that fails leaves no temporary file behind', () => {
  // the checkpoint's name taken by a directory: the rename at the end fails, after every byte was written
  const file = path.join(dir, 'taken');
  fs.mkdirSync(file);
  fs.writeFileSync(path.join(file, 'x'), 'x');
  const { live } = randomIndex(seededRandom('index-checkpoint failed write'), 50);
  expect(() => writeCheckpoint(file, header, live)).toThrow();
  expect(fs.readdirSync(dir)).toEqual(['taken']);
});

it('a disposed index is empty, gives its chunks back and is usable again', () => {
  const { live } = randomIndex(seededRandom('index-checkpoint dispose'), 2000);
  const pooled = arenaChunks.reused;
  live.dispose();
  expect([...live.keys()]).toEqual([]);
  expect([...live.foreignKeys()]).toEqual([]);
  expect(live.size).toBe(0);
  const next = new LiveIndex();
  next.put('005000000000001AAA', { hash: 'h', device: undefined, flags: 'tf' });
  expect(arenaChunks.reused).toBeGreaterThan(pooled); // the disposed index's chunk, taken again
  live.put('005000000000002AAA', { hash: 'g', device: undefined, flags: undefined });
  expect(live.get('005000000000002AAA')).toEqual({ hash: 'g', device: undefined, flags: undefined });
  expect([...live.keys()]).toEqual(['005000000000002AAA']);
});
