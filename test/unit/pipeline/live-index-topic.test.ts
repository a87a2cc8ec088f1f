import type { KafkaMessage } from 'kafkajs';
import { silentLogger } from '../../../kernel/logger';
import { applyEntry, entryOf, tailStart } from '../../../pipeline/kafka/live-index-topic';
import { LiveIndex, usersRecordApplier } from '../../../pipeline/kafka/live-index';
import { HEADERS } from '../../../schemas/topics';
import { mulberry32 } from '../../../simulator/prng';

/**
 * The compact index holds one entry per user key, a projection of the latest users record of
 * that key. Loading the entries must give exactly what reading every users record gives (the
 * removal rule depends on it). Random record histories, replay with INDEX_SEED=<n>.
 */
const seed = Number(process.env.INDEX_SEED ?? Date.now() % 1_000_000);
console.log(`live-index-topic seed: INDEX_SEED=${seed}`);
const random = mulberry32(seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];

function randomRecord(): KafkaMessage {
  const key = pick(['u1', 'u2', 'u3', 'u4', 'u5', 'u6']);
  const headers: Record<string, string> = {};
  if (random() < 0.9) headers[HEADERS.connector] = pick(['me', 'me', 'me', 'other']);
  if (random() < 0.9) headers[HEADERS.org] = pick(['00Dmine', '00Dmine', '00Dthem']);
  if (random() < 0.9) headers[HEADERS.contentHash] = pick(['hashA', 'hashB', 'x'.repeat(22)]);
  if (random() < 0.5)
    headers[HEADERS.device] = pick(['dev1', 'a-longer-device-string|with|parts|2001:db8::1', 'tab\tin\tit']);
  if (random() < 0.5) headers[HEADERS.userLogin] = pick(['tf', 'ff', 'bogus']);
  const value = random() < 0.2 ? null : Buffer.from('v');
  return {
    key: Buffer.from(key),
    value,
    headers,
    offset: '0',
    timestamp: '0',
    attributes: 0,
  } as unknown as KafkaMessage;
}

const snapshot = (live: LiveIndex) => ({
  live: [...live.keys()].sort().map((k) => [k, live.get(k)]),
  foreign: [...live.foreignOrgs()].sort(),
});

describe('compact live index entries', () => {
  test.each(Array.from({ length: 50 }, (_, i) => i))('history %i: entries load to what the full read gives', () => {
    for (const orgId of ['00Dmine', null]) {
      const full = new LiveIndex();
      const apply = usersRecordApplier(full, 'users', 'me', (k) => k.toString(), silentLogger, orgId);
      for (let n = Math.floor(random() * 30); n > 0; n--) apply.onMessage(randomRecord(), 0);
      const fromIndex = new LiveIndex();
      for (const key of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'])
        applyEntry(fromIndex, key, entryOf(full, key, orgId), orgId);
      expect(snapshot(fromIndex)).toEqual(snapshot(full));
    }
  });

  test('LiveIndex gives back the hash, device and flags last put, for any strings', () => {
    const live = new LiveIndex();
    const model = new Map<string, { hash: string; device: string | undefined; flags: string | undefined }>();
    const hashes = ['', 'h', 'x'.repeat(22), 'y'.repeat(200), 'hä', '+x'];
    const devices = [undefined, '', 'd', '0001\u0000abcd["Chrome","é"]', 'z'.repeat(400), '+'];
    for (let op = 0; op < 5000; op++) {
      const key = pick(['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'ü7']);
      if (random() < 0.2) {
        live.put(key, null);
        model.delete(key);
      } else if (random() < 0.1) {
        expect(live.take(key)).toEqual(model.get(key));
        model.delete(key);
      } else {
        const v = { hash: pick(hashes), device: pick(devices), flags: pick([undefined, 'tf', 'ff']) };
        live.put(key, v);
        model.set(key, v);
      }
    }
    expect(snapshot(live).live).toEqual([...model.keys()].sort().map((k) => [k, model.get(k)]));
  });

  test('a watermark is used only when it names the topic and every partition still has its offset', () => {
    const ends = [
      { partition: 0, low: '0', high: '10' },
      { partition: 1, low: '5', high: '7' },
    ];
    expect(tailStart({ topic: 'users', offsets: { 0: '4', 1: '7' } }, 'users', ends)).toEqual(
      new Map([
        [0, 4n],
        [1, 7n],
      ]),
    );
    expect(tailStart(null, 'users', ends)).toBeNull();
    expect(tailStart({ topic: 'other', offsets: { 0: '4', 1: '7' } }, 'users', ends)).toBeNull();
    expect(tailStart({ topic: 'users', offsets: { 0: '4' } }, 'users', ends)).toBeNull(); // a partition more
    expect(tailStart({ topic: 'users', offsets: { 0: '4', 1: '7', 2: '0' } }, 'users', ends)).toBeNull(); // fewer
    expect(tailStart({ topic: 'users', offsets: { 0: '11', 1: '7' } }, 'users', ends)).toBeNull(); // recreated
    expect(tailStart({ topic: 'users', offsets: { 0: '4', 1: '3' } }, 'users', ends)).toBeNull(); // records deleted
    expect(tailStart({ topic: 'users', offsets: { 0: 'x', 1: '7' } }, 'users', ends)).toBeNull();
  });
});
