/**
 * The Bulk pages' inflate, side by side in one process (a command, not a test): a simulator process
 * answers users query jobs; this process reads every result row with the product's extractor, in
 * rounds alternating two ways of reading a gzip'd page, and takes process.cpuUsage() (every thread:
 * libuv's pool, where zlib runs, counts) over the users.
 *
 *   node -r ts-node/register/transpile-only bench/page-inflate.ts [users (20000)] [rounds (10)]
 *
 *   fetch      Node's fetch inflates (its decoder: 16 KiB pieces), what the extractor did before session 18
 *   raw-gzip   keepGzip + Inflater (connectors/salesforce/raw-gzip.ts): 256 KiB pieces, the extractor today
 *
 * The first way is the product's client with the interceptor taken off: its requests go out without
 * proxiedFetch's dispatcher, so fetch sees Content-Encoding and decodes as it did. Same rows either way
 * (counted and checked per round).
 */
import { createExtractor } from '../connectors/salesforce';
import type { FetchFn } from '../connectors/salesforce/http';
import { silentLogger } from '../kernel/logger';
import { sleep } from '../kernel/retry';
import { passwordAuth } from '../simulator/api';
import { spawnSimulator } from './support';

const NOW = '2026-11-01T00:00:00.000Z';

/** fetch without the dispatcher proxiedFetch gives it: the process's own, without keepGzip. */
const fetchDecodes: FetchFn = (input, init) => {
  const { dispatcher: _kept, ...rest } = init as RequestInit & { dispatcher?: unknown };
  return fetch(input, rest);
};

async function readUsers(url: string, credentials: Parameters<typeof passwordAuth>[0], fetchFn?: FetchFn) {
  const ex = createExtractor(
    { loginUrl: url, auth: passwordAuth(credentials), loginLookbackDays: 400, apiBudgetShare: 1 },
    { logger: silentLogger, clock: { now: () => Date.parse(NOW), sleep }, ...(fetchFn ? { fetch: fetchFn } : {}) },
  );
  await ex.connect();
  const before = process.cpuUsage();
  const extraction = ex.users();
  let rows = 0;
  let chars = 0;
  for await (const row of extraction.rows as AsyncIterable<Record<string, string>>) {
    rows++;
    chars += row.Id.length;
  }
  await extraction.done;
  const used = process.cpuUsage(before);
  await ex.close();
  return { rows, chars, cpuUs: used.user + used.system };
}

async function main(): Promise<void> {
  const users = Number(process.argv[2] ?? 20_000);
  const rounds = Number(process.argv[3] ?? 10);
  const sim = await spawnSimulator(users, 10, NOW);
  const figures: Record<string, number[]> = { fetch: [], 'raw-gzip': [] };
  try {
    let expected: number | undefined;
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['fetch', 'raw-gzip'] as const) : (['raw-gzip', 'fetch'] as const);
      for (const way of order) {
        const r = await readUsers(sim.url, sim.credentials, way === 'fetch' ? fetchDecodes : undefined);
        expected ??= r.chars;
        if (r.rows !== users || r.chars !== expected) throw new Error(`${way}: ${r.rows} rows, ${r.chars} chars`);
        figures[way].push(r.cpuUs / users);
        process.stdout.write(`round ${round} ${way}: ${(r.cpuUs / users).toFixed(1)} µs a user\n`);
      }
    }
  } finally {
    await sim.stop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  process.stdout.write(`\n${users} users, ${rounds} rounds alternating; CPU µs a user (all threads), min / median\n`);
  for (const [way, xs] of Object.entries(figures)) {
    process.stdout.write(`${way.padEnd(9)} ${Math.min(...xs).toFixed(1)} / ${median(xs).toFixed(1)}\n`);
  }
}

void main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
