/**
 * The image's runtime flags (Dockerfile): V8's young generation of 2 x 4 MB semi-spaces
 * (NODE_OPTIONS there) and glibc's malloc variables, read at process start. A bench that reports a
 * connector's peak RSS gives its child these, so the figure is the product's: every role started by
 * bench/support.ts spawnRole (BENCH_NODE_FLAGS=defaults for Node's own), and the child processes of
 * bench/routine-timeline.ts and bench/routine-index-load.ts (always).
 */
export const IMAGE_NODE_ARGS = ['--max-semi-space-size=4'];

export const IMAGE_MALLOC = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '524288' };

/** This process's environment with the image's malloc variables (a caller's own values win). */
export function imageEnv(): NodeJS.ProcessEnv {
  return { ...IMAGE_MALLOC, ...process.env };
}
