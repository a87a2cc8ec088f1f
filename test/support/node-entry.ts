/**
 * How a test starts one of this checkout's TypeScript entry points (the `connector` CLI, the sink's,
 * a child run) in a `node` process of its own: its compiled form in dist/ when dist/ is a build of
 * the current sources, else the source itself through ts-node.
 *
 * Why: ts-node compiles every module a process loads each time it starts. A `connector --help`
 * takes 4.3–4.5 s through ts-node and 0.8–0.9 s from dist/ (this machine, session 23), and the
 * suites start such processes some hundred times. `npm test` builds dist/ first (`npm run build`,
 * which is also its type check), so its runs take the compiled form; a lone `npx jest <file>` after
 * an edit, without a build, takes ts-node.
 *
 * "A build of the current sources": `npm run build` (scripts/build.js) empties dist/, compiles,
 * and only if tsc succeeded writes dist/.build-stamp.json with the time the build began. dist/ is
 * current when that stamp exists and everything the build reads is older than it: tsconfig.json,
 * and every file and directory under its `include` (node_modules aside). An edit, a checkout, a
 * new file, or a file deleted or renamed (its directory's time moves) after the build began makes
 * dist/ not current, and so does an `include` pattern this check cannot follow (a glob): the check
 * errs towards ts-node, never towards older code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BUILD_STAMP = path.join('dist', '.build-stamp.json');

let distCurrent: boolean | undefined;

/** The arguments `node` needs to run `entry` (a .ts path in this checkout), before the entry's own. */
export function nodeEntry(entry: string): string[] {
  const absolute = path.resolve(ROOT, entry);
  if (!absolute.endsWith('.ts') || !absolute.startsWith(ROOT + path.sep) || !fs.existsSync(absolute))
    throw new Error(`nodeEntry: ${entry} is not a .ts file of this checkout`);
  distCurrent ??= isDistCurrent();
  if (distCurrent) {
    const built = path.join(ROOT, 'dist', path.relative(ROOT, absolute)).replace(/\.ts$/, '.js');
    return ['--enable-source-maps', built]; // stack traces name the .ts lines, as under ts-node
  }
  return ['-r', require.resolve('ts-node/register/transpile-only'), absolute];
}

/** True when dist/ under `root` is a build of its current sources (see above). */
export function isDistCurrent(root = ROOT): boolean {
  let startedMs: number;
  try {
    startedMs = (JSON.parse(fs.readFileSync(path.join(root, BUILD_STAMP), 'utf8')) as { startedMs: number }).startedMs;
  } catch {
    return false; // never built by `npm run build`, or its tsc failed
  }
  if (typeof startedMs !== 'number') return false;
  const config = path.join(root, 'tsconfig.json');
  const { include } = JSON.parse(fs.readFileSync(config, 'utf8')) as { include?: unknown };
  if (!Array.isArray(include) || include.some((e) => typeof e !== 'string' || /[*?{[]/.test(e))) return false;
  const older = (p: string) => fs.statSync(p).mtimeMs < startedMs;
  if (!older(config)) return false;
  for (const entry of include as string[]) {
    const top = path.join(root, entry);
    if (fs.existsSync(top) && !everyOlder(top, older)) return false;
  }
  return true;
}

/** `p` and everything under it (node_modules aside) pass `older`. */
function everyOlder(p: string, older: (p: string) => boolean): boolean {
  if (!older(p)) return false;
  if (!fs.statSync(p).isDirectory()) return true;
  for (const e of fs.readdirSync(p)) {
    if (e !== 'node_modules' && !everyOlder(path.join(p, e), older)) return false;
  }
  return true;
}
