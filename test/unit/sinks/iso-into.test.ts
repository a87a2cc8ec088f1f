import { mulberry32 } from '../../../simulator/prng';
import { isoInto } from '../../../sinks/postgres/columns';

/**
 * isoInto (columns.ts) writes Date#toISOString's text for instants of years 1-9999, and refuses
 * (-1) what iso refuses: outside those years, non-integers, beyond 2^53. Random instants over the
 * whole range and near day, year and range edges, in random order (its day cache crossed).
 * Randomised: ISO_INTO_SEED=<n> replays a run.
 */
const seed = Number(process.env.ISO_INTO_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe(`isoInto = toISOString (ISO_INTO_SEED=${seed})`, () => {
  it('the same text for years 1-9999, -1 outside', () => {
    const rnd = mulberry32(seed);
    const min = Date.parse('0001-01-01T00:00:00.000Z');
    const max = Date.parse('9999-12-31T23:59:59.999Z');
    const edges = [min, max, min - 1, max + 1, 0, -1, 86_400_000, Date.parse('2000-02-29T23:59:59.999Z'), 1.5, NaN];
    const buf = Buffer.alloc(40);
    for (let i = 0; i < 50_000; i++) {
      const ms =
        i < edges.length
          ? edges[i]
          : rnd() < 0.5
            ? Math.floor(min + rnd() * (max - min))
            : Math.floor(rnd() * 86_400_000) * (rnd() < 0.5 ? 1 : 1000) + (rnd() < 0.5 ? 0 : -1);
      const end = isoInto(ms, buf, 3);
      const want = Number.isSafeInteger(ms) && ms >= min && ms <= max ? new Date(ms).toISOString() : undefined;
      expect({ ms, text: end < 0 ? undefined : buf.toString('latin1', 3, end) }).toEqual({ ms, text: want });
    }
  });
});
