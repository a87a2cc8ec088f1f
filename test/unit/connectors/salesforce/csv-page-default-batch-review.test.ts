/**
 * Review pin (s10-rev-cpu, passes): csv-page's default batch size now depends on the column count
 * (20..100 rows); the existing csv-page tests all pass batchSize explicitly. Pages of 1..400 columns,
 * read with the default, broken off at random bytes twice: every row exactly once, in order, the
 * record count checked. WIDE_SEED=n replays.
 */
import { readCsvPage, type PageResponse, type PageSource, type Row } from '../../../../connectors/salesforce/csv-page';
import { TransportError } from '../../../../connectors/salesforce/http';
import { silentLogger } from '../../../../kernel/logger';
import { mulberry32 } from '../../../../simulator/prng';
const SEED = Number(process.env.WIDE_SEED ?? Math.floor(Math.random() * 2 ** 31));
test(`wide rows, default batch, cut anywhere (WIDE_SEED=${SEED})`, async () => {
  const rnd = mulberry32(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  for (let it = 0; it < 60; it++) {
    const ncol = [1, 4, 40, 175, 199, 200, 201, 400][int(8)];
    const cols = Array.from({ length: ncol }, (_, i) => `C${i}`);
    const n = int(130);
    const rows = Array.from({ length: n }, (_, r) =>
      Object.fromEntries(cols.map((c, i) => [c, [`true`, 'false', '', `v${r}_${i}`, 'é,"x"'][int(5)]])),
    );
    const q = (v: string) =>
      int(2) || v === '' ? `"${v.replace(/"/g, '""')}"` : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
    const body = Buffer.from(
      [cols.join(','), ...rows.map((r) => cols.map((c) => q(r[c])).join(','))].join('\n') + (int(2) ? '\n' : ''),
    );
    const cuts = [int(body.length), int(body.length)];
    let opens = 0;
    const src: PageSource = {
      label: 'p',
      async open(): Promise<PageResponse> {
        const cut = cuts[opens++];
        const size = 1 + int(300);
        return {
          recordCount: n,
          nextLocator: null,
          chunks: (async function* () {
            for (let i = 0; i < body.length; i += size) {
              if (cut !== undefined && i >= cut) throw new TransportError('SALESFORCE_NETWORK', 'reset', false);
              yield body.subarray(i, i + size);
            }
          })(),
        };
      },
    };
    const out: Row[] = [];
    const gen = readCsvPage(src, { jobId: 'j', columns: cols, logger: silentLogger, maxRereads: 3 });
    for (;;) {
      const r = await gen.next();
      if (r.done) {
        expect(r.value.rows).toBe(n);
        break;
      }
      expect(r.value.length).toBeLessThanOrEqual(100);
      out.push(...r.value);
    }
    expect(out.map((r) => JSON.stringify({ ...r }))).toEqual(rows.map((r) => JSON.stringify(r)));
  }
});
