import type { Kafka } from 'kafkajs';
import { arenaChunks } from '../../../kernel/compact-map';
import { silentLogger } from '../../../kernel/logger';
import type { RunFence } from '../../../pipeline/kafka/fence';
import { LiveIndexTopic } from '../../../pipeline/kafka/live-index-topic';
import type { OutRecord } from '../../../pipeline/kafka/publisher';
import { mulberry32 } from '../../../simulator/prng';

/**
 * A rebuild writes every user's index entry through the fence, flushEvery at a time (issue 15): the
 * EntryLog's chunks of a flush whose transaction was written are the next flush's, instead of
 * ~2 MiB of new Buffers a flush left to the garbage collector (200 MB at 1M users). Every entry
 * still lands exactly, in order: what the transaction's writer was given is copied as it is
 * written, and compared with what was kept. Seeded: REUSE_SEED=n replays.
 */
const SEED = Number(process.env.REUSE_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe(`the index's entries in flight reuse their memory (REUSE_SEED=${SEED})`, () => {
  it('lands every entry of keepFlushed exactly, in order; flushes after the first take no new chunks', async () => {
    const rand = mulberry32(SEED);
    const landed: { key: string; value: string | null }[] = [];
    let transactions = 0;
    const fence: RunFence = {
      fenced: false,
      close: async () => {},
      transaction: async (fn) => {
        transactions++;
        await fn({
          writer: {
            write: async (batch) => {
              await new Promise((resolve) => setImmediate(resolve)); // the send's round trip
              for (const r of batch)
                landed.push({ key: r.key.toString('latin1'), value: r.value?.toString('latin1') ?? null });
            },
          },
          send: async () => {},
        });
      },
    };
    const index = new LiveIndexTopic({} as Kafka, 'users', 'me', (k) => k.toString(), silentLogger);
    index.useFence(fence, { flushEvery: 1000 });
    const device = (n: number) =>
      String.fromCharCode(...Array.from({ length: n }, () => 32 + Math.floor(rand() * 224)));
    const kept: { key: string; value: string | null }[] = [];
    const entries: OutRecord[] = [];
    for (let i = 0; i < 25_000; i++) {
      const key = `me\u0000005${String(i).padStart(15, '0')}`;
      const value = rand() < 0.05 ? null : `00D\t--${'h'.repeat(22)}\t${device(Math.floor(rand() * 300))}`;
      kept.push({ key, value });
      entries.push({
        topic: 'users.live-index',
        key: Buffer.from(key, 'latin1'),
        value: value === null ? null : Buffer.from(value, 'latin1'),
        headers: {},
      });
    }
    const reused = arenaChunks.reused;
    await index.keepFlushed(entries);
    for (const r of index.entries())
      landed.push({ key: r.key.toString('latin1'), value: r.value?.toString('latin1') ?? null });
    expect(landed.length).toBe(kept.length);
    for (let i = 0; i < kept.length; i++)
      if (landed[i].key !== kept[i].key || landed[i].value !== kept[i].value)
        expect({ i, ...landed[i] }).toEqual({ i, ...kept[i] });
    expect(transactions).toBe(25);
    // ~4.5 MB of entries went through 25 flushes: past the first, their chunks are the last one's
    expect(arenaChunks.reused - reused).toBeGreaterThanOrEqual(20);
  });
});
