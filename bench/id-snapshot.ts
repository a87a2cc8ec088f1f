/**
 * The Id snapshot's reading cost (a command, not a test): a page of Id-only rows (the declared
 * streams' snapshots, 1.55M + 0.47M rows in a 1M routine run) from its bytes through readCsvPage
 * and the extraction to the reader's function, read the way consume() read it before (the
 * extraction's object-mode stream, for-await a row at a time) and the way it reads it now (the
 * extraction's batches). Rounds alternate which goes first; µs a row, median of the rounds.
 *
 *   node -r ts-node/register/transpile-only bench/id-snapshot.ts [rows] [rounds]
 */
import { readCsvPage, type PageSource } from '../connectors/salesforce/csv-page';
import { toExtraction } from '../connectors/salesforce/row-stream';
import { silentLogger } from '../kernel/logger';
import { consume } from '../pipeline/drain';

const CHUNK_BYTES = 64 * 1024;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function pageOf(rows: number): Buffer {
  let text = '"Id"\n';
  for (let i = 0; i < rows; i++) {
    let tail = '';
    for (let k = 0, n = i; k < 6; k++, n = Math.floor(n / 62)) tail = BASE62[n % 62] + tail;
    text += `"0PS000000${tail}AAA"\n`;
  }
  return Buffer.from(text);
}

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 500_000);
  const rounds = Number(process.argv[3] ?? 5);
  const bytes = pageOf(rows);
  const source: PageSource = {
    label: 'page 1',
    open: async () => ({
      chunks: (async function* () {
        for (let at = 0; at < bytes.length; at += CHUNK_BYTES) yield bytes.subarray(at, at + CHUNK_BYTES);
      })(),
      recordCount: rows,
      nextLocator: 'null',
    }),
  };
  const extraction = () =>
    toExtraction(readCsvPage(source, { jobId: 'bench', columns: ['Id'], logger: silentLogger }), new AbortController());
  const seen = new Set<string>(['none']);
  let hits = 0;
  const onRow = (row: Record<string, string>) => {
    if (seen.has(row.Id)) hits++;
  };
  const ways: Record<string, () => Promise<unknown>> = {
    'a row at a time (the stream)': async () => {
      const ex = extraction();
      for await (const row of ex.rows) onRow(row as Record<string, string>);
      return ex.done;
    },
    'a batch at a time (consume)': () => consume(extraction(), onRow, new AbortController().signal),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  for (let round = 0; round <= rounds; round++) {
    const order = round % 2 === 0 ? Object.keys(ways) : Object.keys(ways).reverse();
    for (const name of order) {
      const t = process.hrtime.bigint();
      await ways[name]();
      const us = Number(process.hrtime.bigint() - t) / 1e3 / rows;
      if (round > 0) times[name].push(us); // round 0 warms up
    }
  }
  console.log(`Id snapshot, ${rows.toLocaleString('en')} rows, ${rounds} rounds (node ${process.version})\n`);
  console.log('| read | µs a row, median | rounds |\n|---|---:|---|');
  for (const [name, ts] of Object.entries(times)) {
    const sorted = [...ts].sort((a, b) => a - b);
    console.log(
      `| ${name} | ${sorted[Math.floor(sorted.length / 2)].toFixed(3)} | ${ts.map((t) => t.toFixed(2)).join(' / ')} |`,
    );
  }
  if (hits !== 0) throw new Error('no row was expected in the set');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
