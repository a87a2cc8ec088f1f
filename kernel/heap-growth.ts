import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets its old generation grow past what the last full collection found alive, for a
 * process whose per-user state is off the heap (kernel/compact-map.ts): the live heap is small
 * (~40 MB after a full collection in a connector run at 100k users, most of it loaded code) and
 * the rest is garbage. V8's own factor (1.1 to 4, larger the faster its collections run) let the
 * old space reach 70-115 MB, and that garbage also holds native memory: Buffers (fetches,
 * decompressed batches, CSV chunks) whose backing store is freed only when their wrapper is
 * collected (glibc's heap held 46-76 MB, 22-42 MB with the factor fixed). At 100k users, peak
 * RSS of the first full / routine / rebuild run (docs/performance-s7-mem.md): V8's factor
 * 287 / 228 / 273 MB; 100 % (a factor of 2) 189 / 175 / 194 MB for the same CPU; 50 % and 30 %
 * ~160-170 MB, but 10-35 % more CPU (more full collections). So 100.
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * The sink's factor: its live heap is the batches in flight, and its garbage holds the fetches'
 * Buffers as the connector's does. An initial load of 100k users + 300k logins with the image's
 * --max-semi-space-size=4 (bench/sink.ts, the variants side by side in one run, two each): V8's own
 * factor 365 MB peak; 100 % 249-263 MB; 50 % 209-218 MB for ~10 % more CPU (21.9-24.1 against
 * 18.5-22.7 us a row), its time within the noise (the load waits on PostgreSQL). So 50, under 256 MB.
 * Session 12 (docs/performance-s12-sink.md): since then the sink's own work a row fell (~21 us), so
 * its thread, not PostgreSQL, bounds the 1M load (61.5 s of CPU in 71.5 s), and a GC profile showed
 * 22.5 % of its time in frequent full collections of a small old generation (19-21 MB live). The
 * factors alternated, 200k-300k users + as many logins (load 7-18): 50 % 18.6-21.2 us a row, peak
 * 182-196 MB; 75 % 16.4-17.7 us, 199-224 MB; 100 % 16.5-18.5 us, 189-229 MB. So 75: ~15 % less CPU,
 * the peak still under 256 MB (the 1M pipeline bench checks it: bench/results/).
 */
export const SINK_HEAP_GROWING_PERCENT = 75;

/**
 * Sets V8's heap growing factor to 1 + percent / 100 for this process, unless the process was
 * started with its own `--heap-growing-percent` (an operator's choice wins). V8 reads the flag at
 * every collection, so setting it at start-up works; it cannot go in NODE_OPTIONS (Node refuses
 * it there), hence this call. Returns whether it set the flag.
 */
export function limitHeapGrowth(
  percent = HEAP_GROWING_PERCENT,
  execArgv: readonly string[] = process.execArgv,
): boolean {
  if (!Number.isInteger(percent) || percent < 1)
    throw new RangeError(`heap growing percent must be a whole number above 0; got ${percent}`);
  if (execArgv.some((a) => /^--?heap[-_]growing[-_]percent(=|$)/.test(a))) return false; // V8 takes one dash too
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
