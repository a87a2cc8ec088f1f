/**
 * How a test starts one of this checkout's TypeScript entry points (the `connector` CLI, the sink's,
 * a child run) in a `node` process of its own: its compiled form in dist/ when dist/ holds the
 * build of every current source, else the source itself through ts-node.
 *
 * Why: ts-node compiles every module a process loads each time it starts. A `connector --help`
 * takes 4.3–4.5 s through ts-node and 0.8–0.9 s from dist/ (this machine, session 23), and the
 * suites start such processes some hundred times. `npm test` builds dist/ first (`npm run build`,
 * which is also its type check), so its runs take the compiled form; a lone `npx jest <file>` after
 * an edit, without a build, takes ts-node, so a test never runs code older than the checkout.
 *
 * "Current" is per file, by modification time: every `.ts` source of the build (tsconfig.json's
 * `include`, declaration files aside) has its `.js` in dist/, written no earlier than the source,
 * and every JSON file the build copied is no older than its source. An edit, a checkout or a new
 * file makes the source newer or its output missing, so the check errs towards ts-node.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');

let distCurrent: boolean | undefined;

/** The arguments `node` needs to run `entry` (a .ts path in this checkout), before the entry's own. */
export function nodeEntry(entry: string): string[] {
  const absolute = path.resolve(ROOT, entry);
  if (!absolute.endsWith('.ts') || !absolute.startsWith(ROOT + path.sep))
    throw new Error(`nodeEntry: ${entry} is not a .ts file of this checkout`);
  distCurrent ??= isDistCurrent();
  if (distCurrent) return [path.join(DIST, path.relative(ROOT, absolute)).replace(/\.ts$/, '.js')];
  return ['-r', require.resolve('ts-node/register/transpile-only'), absolute];
}

/** True when dist/ holds a build of every current source (see above). */
export function isDistCurrent(root = ROOT): boolean {
  const dist = path.join(root, 'dist');
  const config = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as { include: string[] };
  for (const entry of config.include) {
    for (const source of filesUnder(path.join(root, entry))) {
      if (!source.endsWith('.ts') || source.endsWith('.d.ts')) continue;
      const built = path.join(dist, path.relative(root, source)).replace(/\.ts$/, '.js');
      if (!newerOrSame(built, source)) return false;
    }
  }
  for (const copied of filesUnder(dist)) {
    if (!copied.endsWith('.json')) continue;
    const source = path.join(root, path.relative(dist, copied));
    if (fs.existsSync(source) && !newerOrSame(copied, source)) return false;
  }
  return true;
}

function newerOrSame(built: string, source: string): boolean {
  const b = fs.statSync(built, { throwIfNoEntry: false });
  return b !== undefined && b.mtimeMs >= fs.statSync(source).mtimeMs;
}

/** Every file under `p` (p itself when it is a file), node_modules and dist/ aside. */
function* filesUnder(p: string): Generator<string> {
  const stat = fs.statSync(p, { throwIfNoEntry: false });
  if (!stat) return;
  if (!stat.isDirectory()) {
    yield p;
    return;
  }
  for (const e of fs.readdirSync(p, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue;
    yield* filesUnder(path.join(p, e.name));
  }
}
