import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { gunzipSized } from '../../../kafka/fetch-gunzip';
import { mulberry32 } from '../../../simulator/prng';

/**
 * Review of s15-sink (kafka/fetch-gunzip.ts): what memory a decompressed GZIP batch holds.
 *
 * gunzipSized sizes zlib's one output chunk from the buffer's LAST 4 bytes, taken to be the gzip
 * trailer's ISIZE. Node's gunzip ignores bytes after a member when the next byte is 0x00, so a
 * batch whose records section is a valid gzip member followed by e.g. 00 ff ff ff decompresses
 * fine (the same bytes as kafkajs's unzip), but the "trailer" read is 0xffffff00 and the chunk is
 * clamped to 32 MiB. With one chunk, zlib returns a slice of it, and kafkajs's records (key/value
 * are slices of the decompressed buffer) keep the whole 32 MiB ArrayBuffer alive until the batch's
 * records are dropped. docs/performance-s15-sink.md: "The decompressed batch is one buffer of its
 * own size (+1 byte), as the joined chunks were before"; kafkajs's unzip held 16 KiB here.
 *
 * Measured (Node 22): RSS does NOT grow (the chunk is malloc'd, only the touched pages are
 * resident), but the process's ArrayBuffer memory (V8 external memory: GC pressure, address space;
 * a failure under strict overcommit or a ulimit -v) grows 32 MiB a batch. Seeded:
 * FETCH_GUNZIP_MEM_SEED=n replays.
 */
const SEED = Number(process.env.FETCH_GUNZIP_MEM_SEED ?? Math.floor(Math.random() * 2 ** 31));
const unzip = promisify(zlib.unzip);

/** A gzip'd batch of `size` record-like bytes followed by 0x00 and three random bytes. */
function junkTailed(rnd: () => number, size: number): { input: Buffer; raw: Buffer } {
  const raw = Buffer.alloc(size);
  for (let i = 0; i < size; i++) raw[i] = rnd() < 0.7 ? 0x61 + (i % 7) : Math.floor(rnd() * 256);
  const tail = Buffer.from([
    0x00,
    0x80 + Math.floor(rnd() * 128),
    Math.floor(rnd() * 256),
    0x01 + Math.floor(rnd() * 255),
  ]);
  return { input: Buffer.concat([zlib.gzipSync(raw, { level: 1 }), tail]), raw };
}

const named = (what: string) => `${what} (FETCH_GUNZIP_MEM_SEED=${SEED})`;

it(named('a decompressed batch holds no more than its own size (or 16 KiB), whatever its last bytes'), async () => {
  const rnd = mulberry32(SEED);
  for (let i = 0; i < 20; i++) {
    const { input, raw } = junkTailed(rnd, 1 + Math.floor(rnd() * 200_000));
    const theirs = await unzip(input); // kafkajs's codec: succeeds, ignoring the tail
    const ours = await gunzipSized(input);
    expect(ours.equals(theirs)).toBe(true);
    expect(ours.equals(raw)).toBe(true);
    // failed before the fix: ours.buffer.byteLength was the clamped "trailer" (up to 32 MiB)
    expect(ours.buffer.byteLength).toBeLessThanOrEqual(Math.max(16 * 1024, ours.length + 1, theirs.buffer.byteLength));
  }
});

it(named('a fetch of 64 such batches, records kept until processed: RSS and ArrayBuffer memory bounded'), async () => {
  const rnd = mulberry32(SEED ^ 0x5eed);
  const batches = Array.from({ length: 64 }, () => junkTailed(rnd, 100_000 + Math.floor(rnd() * 100_000)).input);
  global.gc?.();
  const before = process.memoryUsage();
  const kept: Buffer[] = [];
  for (const b of batches) {
    const out = await gunzipSized(b); // kafkajs decompresses a fetch's batches one after another
    kept.push(out.subarray(0, 16)); // a record's key: a slice of the decompressed buffer
  }
  const after = process.memoryUsage();
  const rssGrowth = (after.rss - before.rss) / 2 ** 20;
  const abGrowth = (after.arrayBuffers - before.arrayBuffers) / 2 ** 20;
  console.log(
    `seed ${SEED}: RSS +${rssGrowth.toFixed(1)} MiB, ArrayBuffers +${abGrowth.toFixed(1)} MiB, ${kept.length} batches`,
  );
  // holds (pinned): the untouched part of each chunk is not resident; the sink's promise is RSS <= 256 MB
  expect(rssGrowth).toBeLessThan(128);
  // failed before the fix: ~2 GiB of ArrayBuffers held for ~13 MB of records (kafkajs's unzip: its
  // chunks joined into one buffer of the records' own size)
  expect(abGrowth).toBeLessThan(128);
});
