import { mulberry32 } from '../../../simulator/prng';
import { unapplied, type WriteOp } from '../../../sinks/port';

/**
 * unapplied (port.ts) compares offsets as numbers while exact: the same changes as BigInt
 * comparisons, at offsets around 2^53 and beyond too, and an upsert copied without its deletion
 * keeps its value even when read through a getter. Randomised: UNAPPLIED_SEED=<n> replays a run.
 */
const seed = Number(process.env.UNAPPLIED_SEED ?? Math.floor(Math.random() * 2 ** 31));

function reference(ops: readonly WriteOp[], stored: bigint): WriteOp[] {
  const out: WriteOp[] = [];
  for (const op of ops) {
    if (BigInt(op.source.offset) < stored) continue;
    if (op.kind !== 'delete' && op.deletedAt !== undefined && BigInt(op.deletedAt) < stored)
      out.push({ kind: op.kind, key: op.key, value: op.value, writer: op.writer, source: op.source });
    else out.push(op);
  }
  return out;
}

describe(`unapplied = BigInt comparisons (UNAPPLIED_SEED=${seed})`, () => {
  it('the same changes kept, at small offsets, around 2^53 and beyond', () => {
    const rnd = mulberry32(seed);
    for (const base of [0n, 2n ** 53n - 20n, 2n ** 63n - 200n]) {
      for (let round = 0; round < 200; round++) {
        const ops: WriteOp[] = [];
        for (let i = 0; i < 10; i++) {
          const offset = String(base + BigInt(Math.floor(rnd() * 40)));
          const source = { topic: 't', partition: 0, offset, key: null, value: null };
          if (rnd() < 0.2) ops.push({ kind: 'delete', key: `k${i}`, source });
          else {
            const deletedAt = rnd() < 0.5 ? String(BigInt(offset) - BigInt(Math.floor(rnd() * 10))) : undefined;
            const value = { n: i };
            ops.push({
              kind: 'upsert',
              key: `k${i}`,
              get value() {
                return value;
              },
              writer: { id: 1 } as never,
              source,
              deletedAt,
            });
          }
        }
        const stored = base + BigInt(Math.floor(rnd() * 45));
        const got = unapplied(ops, stored);
        const want = reference(ops, stored);
        const view = (xs: WriteOp[]) =>
          xs.map((o) => [o.key, o.source.offset, o.kind === 'delete' ? '-' : [o.deletedAt, o.value]]);
        expect({ base, round, ops: view(got) }).toEqual({ base, round, ops: view(want) });
      }
    }
  });
});
