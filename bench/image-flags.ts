/**
 * The image's runtime flags (Dockerfile): V8's young generation of 2 x 4 MB semi-spaces
 * (NODE_OPTIONS there) and glibc's malloc variables, read at process start. A bench that reports a
 * connector's peak RSS gives its child these, so the figure is the product's (bench/routine-ab.ts,
 * bench/routine-timeline.ts); the pipeline bench takes them from the caller's environment
 * (BENCH_NODE_ARGS, MALLOC_*), as docs/performance-s8-mem.md ran it.
 */
export const IMAGE_NODE_ARGS = ['--max-semi-space-size=4'];

export const IMAGE_MALLOC = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '524288' };

/** This process's environment with the image's malloc variables (a caller's own values win). */
export function imageEnv(): NodeJS.ProcessEnv {
  return { ...IMAGE_MALLOC, ...process.env };
}
