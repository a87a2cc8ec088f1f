/**
 * Fixed-size Buffers handed from an off-heap map that no longer needs them to the next one that
 * does, without waiting for the garbage collector (kernel/compact-map.ts: the arena's 1 MiB chunks).
 *
 * Why: a Buffer's memory goes back to malloc only when V8 collects its wrapper, and V8 collects
 * for external memory only once ~64 MB more of it is held than after its last collection. So when
 * a run drops one index (the users', emptied by the users phase) and loads the next (a declared
 * stream's, 1.55M keys at 1M users), both were resident at once: the rebuild's peak at 1M held
 * 103 MB of glibc heap for 55 MB of ArrayBuffers (docs/performance-s8-mem.md). A chunk given back
 * here is taken by the next map that needs one, so the new index fills the memory the old freed.
 *
 * The pool holds its chunks only through WeakRefs: a chunk nobody takes is collected as before
 * (the pool never keeps memory alive), and one not yet collected is reused. A chunk must be given
 * only by its last user: nothing may read or write it afterwards.
 */
export class ChunkPool {
  private readonly free: WeakRef<Buffer>[] = [];
  /** Chunks taken from the pool instead of allocated (for tests and figures). */
  reused = 0;

  constructor(
    readonly chunkBytes: number,
    /** The most WeakRefs kept (a few dozen bytes each); dead ones are dropped first when full. */
    private readonly maxHeld = 16_384,
  ) {}

  /** A chunk of `chunkBytes` with unspecified contents: a given one still alive, else a new one. */
  take(): Buffer {
    while (this.free.length > 0) {
      const chunk = this.free.pop()!.deref();
      if (chunk !== undefined) {
        this.reused++;
        return chunk;
      }
    }
    return Buffer.allocUnsafe(this.chunkBytes);
  }

  /** Gives chunks back; the caller holds no reference to them from now on. */
  give(chunks: Iterable<Buffer>): void {
    for (const chunk of chunks) {
      if (chunk.length !== this.chunkBytes) continue;
      if (this.free.length >= this.maxHeld) this.prune();
      if (this.free.length < this.maxHeld) this.free.push(new WeakRef(chunk));
    }
  }

  /** WeakRefs held (alive or not): for tests. */
  get held(): number {
    return this.free.length;
  }

  private prune(): void {
    const alive = this.free.filter((ref) => ref.deref() !== undefined);
    this.free.length = 0;
    this.free.push(...alive);
  }
}
