/**
 * Whether dist/ is a build of the checkout's current sources, for what would otherwise compile
 * them again or run them through ts-node (the tests' child processes: test/support/node-entry.ts;
 * the pipeline bench). `npm run build` (scripts/build.mjs) empties dist/, compiles, and only if tsc
 * succeeded writes dist/.build-stamp.json with the time the build began. dist/ is current when that
 * stamp exists and everything the build reads is older than it: tsconfig.json, and every file and
 * directory under its `include` (node_modules aside). An edit, a checkout, a new file, or a file
 * deleted or renamed (its directory's time moves) after the build began makes dist/ not current, and
 * so does an `include` pattern this check cannot follow (a glob): the answer errs towards "not
 * current", never towards older code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const BUILD_STAMP = path.join('dist', '.build-stamp.json');

/** True when dist/ under `root` is a build of its current sources (see above). */
export function isDistCurrent(root: string): boolean {
  try {
    return builtAfterEverySource(root);
  } catch {
    return false; // a file gone while it was looked at, a tsconfig.json that is not plain JSON
  }
}

function builtAfterEverySource(root: string): boolean {
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
