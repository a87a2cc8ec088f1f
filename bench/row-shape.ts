/**
 * Row-object micro-benchmark (not a test): a Bulk row of ~180 columns built as csv-page.ts
 * builds it, property by property on `{}` (V8 turns an object of that many added properties into
 * a dictionary), against one built by a constructor compiled once per column list (every row
 * shares one hidden class with the values in the object). Each row then goes through what the
 * users phase does to it: the content hash (a for-in over every column), the typed-flag stage's
 * Object.keys, and a read of every column by name.
 *
 *   node -r ts-node/register/transpile-only bench/row-shape.ts [rows] [rounds]
 */
import { contentHash } from '../pipeline/records';
import { rowBuilder } from '../connectors/salesforce/csv-page';

const rows = Number(process.argv[2] ?? 50_000);
const rounds = Number(process.argv[3] ?? 5);
const columns = Array.from({ length: 180 }, (_, i) =>
  i === 0 ? 'Id' : i % 7 === 0 ? `Profile.Field${i}` : i % 2 ? `UserPreferences${i}` : `Field${i}__c`,
);
const records = Array.from({ length: 1000 }, (_, r) => columns.map((c, i) => (i % 3 ? `${c}-${r}` : '')));

function byAssignment(rec: string[]): Record<string, string> {
  const row: Record<string, string> = {};
  for (let i = 0; i < columns.length; i++) row[columns[i]] = rec[i];
  return row;
}
const compiled = rowBuilder(columns);

function work(build: (rec: string[]) => Record<string, string>): number {
  const t0 = process.hrtime.bigint();
  let sink = 0;
  for (let n = 0; n < rows; n++) {
    const row = build(records[n % records.length]);
    sink += contentHash(row, 'seed').length;
    sink += Object.keys(row).length;
    for (const c of columns) sink += row[c].length;
  }
  if (sink === 0) throw new Error('unreachable');
  return Number(process.hrtime.bigint() - t0) / 1e3 / rows;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const same = JSON.stringify(byAssignment(records[1])) === JSON.stringify(compiled(records[1]));
if (!same) throw new Error('the two rows differ');
work(byAssignment);
work(compiled);
const a: number[] = [];
const b: number[] = [];
for (let r = 0; r < rounds; r++) {
  a.push(work(byAssignment));
  b.push(work(compiled));
}
const [ma, mb] = [median(a), median(b)];
process.stdout.write(
  `row of ${columns.length} columns, ${rows} rows x ${rounds} rounds, µs per row (median): ` +
    `built by assignment ${ma.toFixed(1)}, compiled ${mb.toFixed(1)} (${(ma / mb).toFixed(2)}x)\n`,
);
