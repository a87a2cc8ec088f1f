/**
 * The benchmark's simulator process: the Salesforce simulator in a process of its own, which
 * also takes changes to its org on stdin, so a routine run with a known share of changed users
 * can be measured.
 *
 *   node dist/bench/sim-process.js <users> <logins> <now>
 *
 * Prints `{ url, credentials }` once started; then, per stdin line `{ "change": 0.01, "seed": 1 }`,
 * edits the Title of that share of the users (picked with the seed) and prints `{ "changed": n }`.
 */
import { createInterface } from 'node:readline';
import { startSimulator } from '../simulator';
import { mulberry32 } from '../simulator/prng';

async function main(): Promise<void> {
  const [users, logins, now] = process.argv.slice(2);
  // BENCH_SIM_JOB_MS: how long each query job takes at least before it is complete (Salesforce's
  // own queueing and processing; the simulator's default is none)
  const jobMinProcessingMs = Number(process.env.BENCH_SIM_JOB_MS ?? 0);
  const sim = await startSimulator({ users: Number(users), logins: Number(logins), now, jobMinProcessingMs });
  process.stdout.write(JSON.stringify({ url: sim.url, credentials: sim.credentials }) + '\n');
  const stop = () => void sim.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  for await (const line of createInterface({ input: process.stdin })) {
    const { change, seed } = JSON.parse(line) as { change: number; seed: number };
    const random = mulberry32(seed);
    const ids = sim.userIds();
    const n = Math.round(ids.length * change);
    // a partial Fisher-Yates shuffle: n distinct users
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(random() * (ids.length - i));
      [ids[i], ids[j]] = [ids[j], ids[i]];
      sim.updateUser(ids[i], { Title: `Changed ${seed}-${i}` });
    }
    process.stdout.write(JSON.stringify({ changed: n }) + '\n');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench simulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
