/**
 * `npm test`'s runner: the two tiers of jest.config.ts as two jest processes, one after the other,
 * the unit tier's suites on every core (`--maxWorkers` = the machine's parallelism), then the
 * integration tier's one at a time (`--runInBand`: its suites share the servers). TEST_TIERS picks
 * another way:
 *   - `serial`: jest once, in band (`jest --runInBand`), every suite one at a time: how `npm test`
 *     ran until session 23;
 *   - `parallel`: the two tiers at the same time, each in band: a trial CI took 31 min instead of 38,
 *     but the next failed read-to-end.test.ts "rides out a broker restarted mid-read" under the unit
 *     tier's load. That was kafkajs misframing a connection after a broker restart (fixed in session
 *     23: kafka/connections.ts useFreshFraming); not tried again in a trial CI, so still opt-in.
 *
 * Why: the unit tier is CPU-bound in one thread (~530 s of a CI's jest time, one core busy; 1.81x
 * faster on two workers, session 20) while the integration tier mostly waits on Kafka, the
 * registry, PostgreSQL and its child processes (~1,120 s). One jest process runs one project after
 * the other, with one worker setting for both: so the tiers are two processes.
 *
 *   node -r ts-node/register/transpile-only test/run.ts [jest arguments]
 *
 * Arguments go to both processes. Each tier writes its results as JSON to a file of its own; with
 * `--outputFile=F` the two are merged into F (the counts summed, the suites' results joined), so
 * readers of F see one run. Anything that already picks a tier or its own way of running
 * (`--selectProjects`, `--projects`, `--runInBand`/`-i`, `--maxWorkers`/`-w`, `--watch`,
 * `--listTests`, `--json` to stdout; camelCase or kebab-case) runs jest once with `--runInBand`
 * before them, as `jest --runInBand` would. The exit code is non-zero when either tier failed, when a tier wrote no
 * results, or when the two together ran no test (a path that matches nothing fails, as it did in
 * one jest process). A failed unit tier does not stop the integration tier (CI reports both); a
 * signal does. In `parallel`, the unit tier's lines are printed with a "[unit] " prefix as they come.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const TIERS = ['unit', 'integration'] as const;
const jestBin = require.resolve('jest/bin/jest');

/** True when the arguments ask for something the split would change: jest runs once, as asked. */
function runAsAsked(args: readonly string[]): boolean {
  if (process.env.TEST_TIERS === 'serial') return true;
  const names = ['selectProjects', 'projects', 'runInBand', 'maxWorkers', 'watch', 'watchAll', 'listTests'];
  const kebab = names.map((n) => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
  const own = new RegExp(`^(${[...names, ...kebab].map((n) => `--${n}`).join('|')}|-i|-w)(=|$)`);
  if (args.some((a) => own.test(a))) return true;
  return args.some((a) => JSON_FLAG.test(a)) && !args.some((a) => a.startsWith('--outputFile'));
}

/** `--json` in any of its forms (`--json`, `--json=true`). */
const JSON_FLAG = /^--json(=|$)/;

/** The `--outputFile` value (as `--outputFile=F` or `--outputFile F`), and the arguments without it. */
function splitOutputFile(args: readonly string[]): { file?: string; rest: string[] } {
  const rest: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--outputFile=')) file = a.slice('--outputFile='.length);
    else if (a === '--outputFile') file = args[++i];
    else if (!JSON_FLAG.test(a))
      rest.push(a); // each tier gets its own --json --outputFile
    else if (a === '--json' && (args[i + 1] === 'true' || args[i + 1] === 'false')) i++;
  }
  return { file, rest };
}

/** Prints a child's stream line by line behind `prefix` (a partial last line waits for its end). */
function prefixed(from: NodeJS.ReadableStream, to: NodeJS.WritableStream, prefix: string): void {
  let partial = '';
  from.setEncoding('utf8');
  from.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    if (lines.length > 0) to.write(lines.map((l) => `${prefix}${l}\n`).join(''));
  });
  from.on('end', () => {
    if (partial) to.write(`${prefix}${partial}\n`);
  });
}

/** The exit code once the child exited and its output streams are drained ('close', not 'exit'). */
function exitOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 1))),
  );
}

/** jest's --json results of the two tiers as one: counts summed, suites joined, success only if both. */
function mergeResults(results: readonly Record<string, unknown>[]): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...results[0] };
  for (const key of Object.keys(merged))
    if (typeof merged[key] === 'number' && key !== 'startTime')
      merged[key] = results.reduce((n, r) => n + Number(r[key] ?? 0), 0);
  merged.startTime = Math.min(...results.map((r) => Number(r.startTime)));
  merged.success = results.every((r) => r.success === true);
  merged.wasInterrupted = results.some((r) => r.wasInterrupted === true);
  merged.openHandles = results.flatMap((r) => (r.openHandles as unknown[]) ?? []);
  merged.testResults = results.flatMap((r) => (r.testResults as unknown[]) ?? []);
  return merged;
}

type Mode = 'sequence' | 'parallel';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (runAsAsked(args)) {
    const child = spawn(process.execPath, [jestBin, '--runInBand', ...args], { stdio: 'inherit' });
    forwardSignals(() => [child]);
    return exitOf(child);
  }
  const mode: Mode = process.env.TEST_TIERS === 'parallel' ? 'parallel' : 'sequence';
  const { file, rest } = splitOutputFile(args);
  if (file) fs.rmSync(file, { force: true }); // no earlier run's results left in its place
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-tiers-'));
  const outputs = TIERS.map((tier) => path.join(dir, `${tier}.json`));
  const codes = await runTiers(mode, rest, outputs);
  TIERS.forEach((tier, i) => console.log(`test tiers: ${tier} exited ${codes[i]}`));
  const results = outputs.filter((o) => fs.existsSync(o)).map((o) => JSON.parse(fs.readFileSync(o, 'utf8')));
  fs.rmSync(dir, { recursive: true, force: true });
  if (results.length !== TIERS.length) {
    console.error('test tiers: a tier wrote no results (it did not run to its end)');
    return Math.max(1, ...codes);
  }
  const merged = mergeResults(results as Record<string, unknown>[]);
  if (file) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(merged));
  }
  if (merged.numTotalTests === 0) {
    console.error('test tiers: no tests found in either tier');
    return Math.max(1, ...codes);
  }
  return Math.max(...codes);
}

/** Runs the tiers as `mode` says; their exit codes, in TIERS' order (not run: 1). */
async function runTiers(mode: Mode, rest: readonly string[], outputs: readonly string[]): Promise<number[]> {
  const running: ChildProcess[] = [];
  let signalled = false;
  forwardSignals(() => {
    signalled = true;
    return running;
  });
  const start = (i: number): ChildProcess => {
    const tier = TIERS[i];
    // No tests in one tier is fine (a path of the other's); none in both is not (checked by main).
    const own = [jestBin, '--selectProjects', tier, '--passWithNoTests', ...rest];
    own.push(...workersOf(mode, tier), '--json', `--outputFile=${outputs[i]}`);
    // Side by side, the integration tier keeps the terminal; the unit tier's lines are marked as its own.
    const marked = mode === 'parallel' && tier === 'unit';
    const child = spawn(process.execPath, own, { stdio: marked ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    if (marked) {
      prefixed(child.stdout!, process.stdout, '[unit] ');
      prefixed(child.stderr!, process.stderr, '[unit] ');
    }
    running.push(child);
    return child;
  };
  if (mode === 'parallel') return Promise.all(TIERS.map((_, i) => exitOf(start(i))));
  const codes: number[] = [];
  for (let i = 0; i < TIERS.length; i++) codes.push(signalled ? 1 : await exitOf(start(i)));
  return codes;
}

/** How a tier runs its suites: in sequence, the unit tier on every core; else one at a time. */
function workersOf(mode: Mode, tier: (typeof TIERS)[number]): string[] {
  if (mode === 'sequence' && tier === 'unit') return [`--maxWorkers=${os.availableParallelism()}`];
  return ['--runInBand'];
}

/** Ctrl-C or a CI's stop reaches the running tiers. (A signalled jest runs no global tear-down:
 *  servers the integration tier started keep running, as with one jest process; `npm run services:stop`.) */
function forwardSignals(running: () => readonly ChildProcess[]): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      for (const c of running()) if (c.exitCode === null && c.pid !== undefined) c.kill(signal);
    });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
