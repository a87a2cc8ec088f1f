/**
 * `npm test`'s runner: the two tiers of jest.config.ts as two jest processes at once, each in band.
 *
 * The unit tier is CPU-bound in one thread (~570 s of a trial CI's 1,730 s of jest, one core busy);
 * the integration tier mostly waits on Kafka, the registry, PostgreSQL and its child processes
 * (~1,170 s). One jest process runs one project after the other (session 20: even with workers,
 * projects never overlap), so the machine's second core sat idle for the unit tier's ~10 minutes.
 * Here they overlap; each tier still runs its own suites one at a time, as before, and the
 * integration tier alone starts and stops the servers (its global set-up).
 *
 *   node -r ts-node/register/transpile-only test/run.ts [jest arguments]
 *
 * Arguments go to both processes. `--outputFile=F` (with `--json`): each tier writes its own file and
 * the two are merged into F (the counts summed, the suites' results joined), so readers of F see one
 * run. Anything that already picks a tier or its own way of running (`--selectProjects`, `--projects`,
 * `--runInBand`/`-i`, `--maxWorkers`/`-w`, `--watch`, `--json` to stdout), or TEST_TIERS=serial,
 * runs jest once, in band, exactly as `jest --runInBand` would. The exit code is non-zero when either
 * tier failed; the unit tier's lines are printed with a "[unit] " prefix as they come.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { constants } from 'node:os';
import * as path from 'node:path';

const TIERS = ['unit', 'integration'] as const;
const jestBin = require.resolve('jest/bin/jest');

/** True when the arguments ask for something the split would change: jest runs once, as asked. */
function runAsAsked(args: readonly string[]): boolean {
  if (process.env.TEST_TIERS === 'serial') return true;
  const own = /^(--selectProjects|--projects|--runInBand|-i|--maxWorkers|-w|--watch|--watchAll)(=|$)/;
  if (args.some((a) => own.test(a))) return true;
  return args.includes('--json') && !args.some((a) => a.startsWith('--outputFile'));
}

/** The `--outputFile` value (as `--outputFile=F` or `--outputFile F`), and the arguments without it. */
function splitOutputFile(args: readonly string[]): { file?: string; rest: string[] } {
  const rest: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--outputFile=')) file = a.slice('--outputFile='.length);
    else if (a === '--outputFile') file = args[++i];
    else rest.push(a);
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

function exitOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 1))),
  );
}

/** jest's --json results of the two tiers as one: counts summed, suites joined, success only if both. */
function mergeResults(files: readonly string[], into: string): void {
  const results = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>);
  const merged: Record<string, unknown> = { ...results[0] };
  for (const key of Object.keys(merged))
    if (typeof merged[key] === 'number' && key !== 'startTime')
      merged[key] = results.reduce((n, r) => n + Number(r[key] ?? 0), 0);
  merged.startTime = Math.min(...results.map((r) => Number(r.startTime)));
  merged.success = results.every((r) => r.success === true);
  merged.testResults = results.flatMap((r) => (r.testResults as unknown[]) ?? []);
  fs.writeFileSync(into, JSON.stringify(merged));
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const node = process.execPath;
  if (runAsAsked(args)) {
    const child = spawn(node, [jestBin, '--runInBand', ...args], { stdio: 'inherit' });
    forwardSignals([child]);
    return exitOf(child);
  }
  const { file, rest } = splitOutputFile(args);
  const outputs = TIERS.map((tier) => (file ? `${file}.${tier}.json` : undefined));
  const children = TIERS.map((tier, i) => {
    const own = [jestBin, '--runInBand', '--selectProjects', tier, '--passWithNoTests', ...rest];
    if (outputs[i]) own.push(`--outputFile=${outputs[i]}`);
    // The integration tier keeps the terminal; the unit tier's lines are marked as its own.
    if (tier === 'integration') return spawn(node, own, { stdio: 'inherit' });
    const child = spawn(node, own, { stdio: ['ignore', 'pipe', 'pipe'] });
    prefixed(child.stdout!, process.stdout, '[unit] ');
    prefixed(child.stderr!, process.stderr, '[unit] ');
    return child;
  });
  forwardSignals(children);
  const codes = await Promise.all(children.map(exitOf));
  TIERS.forEach((tier, i) => console.log(`test tiers: ${tier} exited ${codes[i]}`));
  if (file) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const written = outputs.filter((o): o is string => o !== undefined && fs.existsSync(o));
    if (written.length === TIERS.length) mergeResults(written, file);
    for (const o of written) fs.rmSync(o, { force: true });
    if (written.length !== TIERS.length) {
      console.error(`test tiers: a tier wrote no results; ${file} not written`);
      return Math.max(1, ...codes);
    }
  }
  return Math.max(...codes);
}

/** Ctrl-C or a CI's stop reaches both tiers (each stops what it started: its global tear-down). */
function forwardSignals(children: readonly ChildProcess[]): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      for (const c of children) if (c.exitCode === null && c.pid !== undefined) c.kill(signal);
    });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
