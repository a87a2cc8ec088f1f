/**
 * The results of one query job over one snapshot, without materialising them. A counting pass
 * (run in slices, so the server stays responsive) finds the number of records and remembers
 * where every CHECKPOINT-th match is; a page at any offset then starts from the nearest
 * checkpoint and generates only its own rows. Memory: O(count / CHECKPOINT), except for
 * ORDER BY on a field the data is not already sorted by, which keeps the matching positions.
 */
import { compareValues } from './soql-values';
import { QueryPlan } from './soql-compile';
import { DataSource, Row, Table, Value } from './table';

const CHECKPOINT = 1024;
/** Rows examined per slice of the counting pass before yielding to the event loop. */
const SLICE = 20_000;

export class ResultSet {
  private readonly table: Table;
  /** Scan window over positions (narrowed by bounds on monotone fields). */
  private lo = 0;
  private hi = 0;
  private desc = false;
  /** Positions of the results in order, when the plan needs a real sort. */
  private sorted: Uint32Array | null = null;
  private readonly checkpoints: number[] = [];
  private total = -1;
  private needsSort = false;

  constructor(
    private readonly plan: QueryPlan,
    private readonly data: DataSource,
  ) {
    // nothing read from the table yet: a table built on first use is built by prepare(), in
    // slices, not in the call that creates the job (the server answers other calls meanwhile)
    this.table = data.table(plan.object.name);
  }

  /** Number of records, once prepare() has finished; -1 before. */
  get count(): number {
    return this.total;
  }

  /** Counts the results (and sorts them when needed). `stopped` aborts between slices. */
  async prepare(stopped: () => boolean = () => false): Promise<void> {
    await this.table.prepare?.(stopped);
    if (stopped()) return;
    this.hi = this.table.size();
    this.narrow();
    this.needsSort = !this.naturalOrder();
    const limit = this.plan.limit ?? Infinity;
    const needsSort = this.needsSort;
    const matches: number[] = [];
    let count = 0;
    const len = this.hi - this.lo;
    for (let s = 0; s < len && (needsSort || count < limit); s++) {
      if (s % SLICE === SLICE - 1) {
        await new Promise((r) => setImmediate(r));
        if (stopped()) return;
      }
      const pos = this.posAt(s);
      const row = this.table.row(pos);
      if (row === null || (this.plan.where !== null && !this.plan.where(row, this.data))) continue;
      if (needsSort) matches.push(pos);
      else {
        if (count % CHECKPOINT === 0) this.checkpoints.push(s);
        count++;
      }
    }
    if (needsSort) {
      this.sorted = this.sort(matches);
      if (this.sorted.length > limit) this.sorted = this.sorted.subarray(0, limit);
      count = this.sorted.length;
    }
    this.total = count;
  }

  /** Rows from result `offset` on, at most `max` of them, in order. */
  *rows(offset: number, max: number): Generator<Row> {
    const end = Math.min(this.total, offset + max);
    if (offset >= end) return;
    if (this.sorted) {
      for (let k = offset; k < end; k++) yield this.table.row(this.sorted[k]) as Row;
      return;
    }
    const cp = Math.floor(offset / CHECKPOINT);
    let n = cp * CHECKPOINT;
    const len = this.hi - this.lo;
    for (let s = this.checkpoints[cp]; s < len && n < end; s++) {
      const row = this.table.row(this.posAt(s));
      if (row === null || (this.plan.where !== null && !this.plan.where(row, this.data))) continue;
      if (n >= offset) yield row;
      n++;
    }
  }

  private posAt(s: number): number {
    return this.desc ? this.hi - 1 - s : this.lo + s;
  }

  /** No ORDER BY, or ORDER BY a field whose values already follow position order. */
  private naturalOrder(): boolean {
    const o = this.plan.orderBy;
    if (o.length === 0) return true;
    if (o.length !== 1 || !o[0].path.direct) return false;
    const key = this.table.monotoneKey?.(o[0].path.field.name);
    if (!key) return false;
    this.desc = o[0].desc;
    return true;
  }

  /** Binary-searches the scan window from bounds on monotone fields (Id, LoginTime). */
  private narrow(): void {
    for (const b of this.plan.bounds) {
      const key = this.table.monotoneKey?.(b.field);
      if (!key) continue;
      const type = this.plan.object.fields.find((f) => f.name === b.field)?.type ?? 'string';
      // first position in [lo, hi) whose key satisfies key >= v (strict: key > v)
      const firstAtLeast = (v: Value, strict: boolean): number => {
        let a = this.lo;
        let z = this.hi;
        while (a < z) {
          const mid = (a + z) >>> 1;
          const c = compareValues(type, key(mid), v);
          if (c < 0 || (strict && c === 0)) a = mid + 1;
          else z = mid;
        }
        return a;
      };
      const ge = firstAtLeast(b.value, false);
      const gt = firstAtLeast(b.value, true);
      if (b.op === '>=') this.lo = ge;
      else if (b.op === '>') this.lo = gt;
      else if (b.op === '<') this.hi = ge;
      else if (b.op === '<=') this.hi = gt;
      else [this.lo, this.hi] = [ge, gt];
      if (this.hi < this.lo) this.hi = this.lo;
    }
  }

  private sort(positions: number[]): Uint32Array {
    const terms = this.plan.orderBy;
    const keys: Value[][] = terms.map((t) => positions.map((p) => t.path.get(this.table.row(p) as Row, this.data)));
    const idx = positions.map((_, k) => k);
    idx.sort((a, b) => {
      for (let t = 0; t < terms.length; t++) {
        const x = keys[t][a];
        const y = keys[t][b];
        if (x === y) continue;
        // SOQL puts nulls first unless NULLS LAST, whatever the direction
        if (x === null) return terms[t].nullsLast ? 1 : -1;
        if (y === null) return terms[t].nullsLast ? -1 : 1;
        const c = compareValues(terms[t].path.field.type, x, y);
        if (c !== 0) return terms[t].desc ? -c : c;
      }
      return positions[a] - positions[b];
    });
    return Uint32Array.from(idx, (k) => positions[k]);
  }
}
