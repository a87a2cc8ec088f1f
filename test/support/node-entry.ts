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
 * "A build of the current sources": devstack/build-stamp.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDistCurrent } from '../../devstack/build-stamp';

export const ROOT = path.resolve(__dirname, '..', '..');

let distCurrent: boolean | undefined;

/** The arguments `node` needs to run `entry` (a .ts path in this checkout), before the entry's own. */
export function nodeEntry(entry: string): string[] {
  const absolute = path.resolve(ROOT, entry);
  if (!absolute.endsWith('.ts') || !absolute.startsWith(ROOT + path.sep) || !fs.existsSync(absolute))
    throw new Error(`nodeEntry: ${entry} is not a .ts file of this checkout`);
  distCurrent ??= isDistCurrent(ROOT);
  if (distCurrent) {
    const built = path.join(ROOT, 'dist', path.relative(ROOT, absolute)).replace(/\.ts$/, '.js');
    return ['--enable-source-maps', built]; // stack traces name the .ts lines, as under ts-node
  }
  return ['-r', require.resolve('ts-node/register/transpile-only'), absolute];
}
