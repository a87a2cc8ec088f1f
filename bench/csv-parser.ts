/**
 * CSV parser micro-benchmark (not a test): csv-parse's streaming parser, driven the way
 * connectors/salesforce/csv-page.ts drove it before CsvParser replaced it (write a chunk, read the
 * records it completed), against CsvParser, on User-like rows of 179 columns held in memory as
 * 64 KiB chunks.
 *
 *   node -r ts-node/register/transpile-only bench/csv-parser.ts [rows] [rounds]
 *
 * Two encodings of the same rows: "salesforce" quotes every non-empty value (as Bulk API 2.0
 * writes results); "minimal" quotes only the values that need it. Both parsers must return the
 * same records before anything is timed; after an untimed warm-up round the rounds alternate which
 * parser goes first, and the summary gives the median of the rounds. MB = 10^6 bytes.
 */
import { parse } from 'csv-parse';
import { CsvParser } from '../connectors/salesforce/csv-parser';
import { mulberry32 as prng } from '../simulator/prng';

const COLUMNS = 179;
const CHUNK_BYTES = 64 * 1024;
const MAX_RECORD_BYTES = 8 * 1024 * 1024;

type Kind = 'id' | 'bool' | 'date' | 'datetime' | 'name' | 'email' | 'picklist' | 'number' | 'address' | 'text';
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const NAMES = [
  'Ana',
  'Bram',
  'Chloé',
  'Dmitri',
  'Eun-ji',
  'Farah',
  'Gustav',
  'Hélène',
  'Ivo',
  'Jun',
  "O'Brien",
  'Zoë Ångström',
];
const PICKLIST = [
  'en_US',
  'America/Los_Angeles',
  'Standard',
  'UTF-8',
  'ISO-8859-1',
  'PowerPartner',
  'AutomatedProcess',
];
const WORDS = [
  'the',
  'quarterly',
  'report',
  'owner',
  'region',
  'north',
  'sales',
  'team',
  'account',
  'review',
  'pending',
  'approved',
];

function columnKinds(rnd: () => number): Kind[] {
  const kinds: Kind[] = [
    'id',
    'bool',
    'bool',
    'bool',
    'date',
    'datetime',
    'name',
    'email',
    'picklist',
    'picklist',
    'number',
    'id',
    'address',
    'text',
  ];
  const out: Kind[] = ['id'];
  for (let i = 1; i < COLUMNS; i++) out.push(kinds[Math.floor(rnd() * kinds.length)]);
  return out;
}

function value(kind: Kind, rnd: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  switch (kind) {
    case 'id': {
      let id = '005xx000001';
      for (let i = 0; i < 7; i++) id += ID_CHARS[Math.floor(rnd() * ID_CHARS.length)];
      return id;
    }
    case 'bool':
      return rnd() < 0.5 ? 'true' : 'false';
    case 'date':
      return `20${10 + Math.floor(rnd() * 16)}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 10)}`;
    case 'datetime':
      return (
        `2025-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 10)}T` +
        `0${Math.floor(rnd() * 10)}:3${Math.floor(rnd() * 10)}:00.000Z`
      );
    case 'name':
      return `${pick(NAMES)} ${pick(NAMES)}`;
    case 'email':
      return `${pick(NAMES)
        .toLowerCase()
        .replace(/[^a-z]/g, '')}.${Math.floor(rnd() * 10000)}@example.com`;
    case 'picklist':
      return pick(PICKLIST);
    case 'number':
      return String(Math.floor(rnd() * 100000) / 100);
    case 'address':
      return `${1 + Math.floor(rnd() * 999)} ${pick(WORDS)} Street, Suite ${Math.floor(rnd() * 100)}, Springfield`;
    case 'text': {
      if (rnd() < 0.9) return pick(WORDS);
      // A longer text now and then: commas, quotes, a line break.
      const words: string[] = [];
      for (let n = 20 + Math.floor(rnd() * 60); n > 0; n--) words.push(pick(WORDS));
      return `${words.join(' ')}, "quoted", and\nmore: ${words.slice(0, 10).join(', ')}`;
    }
  }
}

function rowsText(rows: number, quoteAll: boolean): string {
  const rnd = prng(179);
  const kinds = columnKinds(rnd);
  const enc = (v: string): string => {
    if (v === '') return '';
    if (quoteAll || /[",\r\n]/.test(v)) return `"${v.replace(/"/g, '""')}"`;
    return v;
  };
  const lines: string[] = [Array.from({ length: COLUMNS }, (_, i) => enc(`Field${i}__c`)).join(',')];
  for (let r = 0; r < rows; r++) {
    const vals: string[] = [];
    for (let c = 0; c < COLUMNS; c++) vals.push(c > 0 && rnd() < 0.35 ? '' : enc(value(kinds[c], rnd)));
    lines.push(vals.join(','));
  }
  return lines.join('\n') + '\n';
}

function toChunks(text: string): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK_BYTES) chunks.push(Buffer.from(bytes.subarray(i, i + CHUNK_BYTES)));
  return chunks;
}

/** csv-parse as csv-page.ts drove it; `onRecords` gets each chunk's records. */
async function withCsvParse(chunks: readonly Buffer[], onRecords: (recs: string[][]) => void): Promise<void> {
  const parser = parse({ bom: true, max_record_size: MAX_RECORD_BYTES });
  parser.on('error', () => undefined);
  const drain = (): void => {
    const out: string[][] = [];
    for (let r = parser.read() as string[] | null; r !== null; r = parser.read() as string[] | null) out.push(r);
    if (parser.errored) throw parser.errored;
    onRecords(out);
  };
  for (const c of chunks) {
    parser.write(c);
    drain();
  }
  parser.end();
  const rest: string[][] = [];
  for await (const r of parser as AsyncIterable<string[]>) rest.push(r);
  onRecords(rest);
}

async function withCsvParser(chunks: readonly Buffer[], onRecords: (recs: string[][]) => void): Promise<void> {
  const parser = new CsvParser({ maxRecordBytes: MAX_RECORD_BYTES });
  for (const c of chunks) onRecords(parser.push(c));
  onRecords(parser.end());
}

type Runner = typeof withCsvParser;

async function collect(run: Runner, chunks: readonly Buffer[]): Promise<string[][]> {
  const all: string[][] = [];
  await run(chunks, (recs) => {
    for (const r of recs) all.push(r);
  });
  return all;
}

function assertSame(a: string[][], b: string[][]): void {
  if (a.length !== b.length) throw new Error(`record counts differ: csv-parse ${a.length}, CsvParser ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.length !== y.length || x.some((v, j) => v !== y[j])) throw new Error(`record ${i + 1} differs`);
  }
}

async function time(run: Runner, chunks: readonly Buffer[]): Promise<{ seconds: number; records: number }> {
  let records = 0;
  const start = process.hrtime.bigint();
  await run(chunks, (recs) => {
    records += recs.length;
  });
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, records };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 20_000);
  const rounds = Number(process.argv[3] ?? 5);
  const runners: [string, Runner][] = [
    ['csv-parse', withCsvParse],
    ['CsvParser', withCsvParser],
  ];
  for (const [dialect, quoteAll] of [
    ['salesforce', true],
    ['minimal', false],
  ] as const) {
    const chunks = toChunks(rowsText(rows, quoteAll));
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    assertSame(await collect(withCsvParse, chunks), await collect(withCsvParser, chunks));
    console.log(
      `\n${dialect}: ${rows} rows x ${COLUMNS} columns, ${(bytes / 1e6).toFixed(1)} MB in ` +
        `${chunks.length} chunks; records identical`,
    );
    for (const [, run] of runners) await time(run, chunks); // warm-up: JIT, and the verification's garbage
    const seconds = new Map<string, number[]>(runners.map(([name]) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? runners : [...runners].reverse();
      for (const [name, run] of order) {
        const t = await time(run, chunks);
        if (t.records !== rows + 1) throw new Error(`${name} returned ${t.records} records`);
        seconds.get(name)!.push(t.seconds);
      }
    }
    for (const [name] of runners) {
      const s = median(seconds.get(name)!);
      const rounds = seconds
        .get(name)!
        .map((x) => x.toFixed(3))
        .join(' ');
      console.log(
        `  ${name.padEnd(9)} ${(bytes / 1e6 / s).toFixed(1).padStart(7)} MB/s ${Math.round(rows / s)
          .toLocaleString('en-US')
          .padStart(9)} rows/s   (median of rounds, s: ${rounds})`,
      );
    }
    console.log(
      `  ratio     ` +
        `${(median(seconds.get('csv-parse')!) / median(seconds.get('CsvParser')!)).toFixed(2)}x ` +
        `(CsvParser over csv-parse)`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
