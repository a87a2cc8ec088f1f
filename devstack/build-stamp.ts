/**
 * Whether dist/ is a build of the checkout's current sources, for what would otherwise compile
 * them again or run them through ts-node (the tests' child processes: test/support/node-entry.ts;
 * the pipeline bench). `npm run build` (scripts/build.mjs) empties dist/, compiles, and only if tsc
 * succeeded writes dist/.build-stamp.json with the time the build began. dist/ is current when that
 * stamp exists and everything the build reads is older than it: tsconfig.json, and every file and
 * directory under its `include` (node_modules aside). An edit, a checkout, a new file, or a file
 * deleted or renamed (its directory's time moves) after the build began makes dist/ not current, and
 * so does an `include` pattern this check cannot follow (a glob): the answer errs towards "not
 * current". By times only: a dist/ edited by hand, a source copied in with its old time kept (cp -p,
 * rsync -a, tar x) or a clock set back pass for current; `npm publish` builds from nothing first.
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
  // no stamp (never built, or its tsc failed) throws here: isDistCurrent answers false
  const { startedMs } = JSON.parse(fs.readFileSync(path.join(root, BUILD_STAMP), 'utf8')) as { startedMs?: unknown };
  if (typeof startedMs !== 'number') return false;
  const config = path.join(root, 'tsconfig.json');
  const { include } = JSON.parse(fs.readFileSync(config, 'utf8')) as { include?: unknown };
  if (!Array.isArray(include) || include.some((e) => typeof e !== 'string' || /[*?{[]/.test(e))) return false;
  if (fs.statSync(config).mtimeMs >= startedMs) return false;
  return (include as string[]).every((entry) => {
    const top = path.join(root, entry);
    return !fs.existsSync(top) || everyOlder(top, startedMs);
  });
}

/** `p` and everything under it (node_modules aside) were last changed before `startedMs` (one stat each). */
function everyOlder(p: string, startedMs: number): boolean {
  const stat = fs.statSync(p);
  if (stat.mtimeMs >= startedMs) return false;
  if (!stat.isDirectory()) return true;
  return fs.readdirSync(p).every((e) => e === 'node_modules' || everyOlder(path.join(p, e), startedMs));
}
