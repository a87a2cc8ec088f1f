/* global process, URL, console */
/**
 * `npm run build`: dist/ compiled from nothing by tsc (tsconfig.json), then stamped with the time
 * the build began. tsc never deletes an output whose source is gone, so dist/ is emptied first: no
 * old .js is left for Node to resolve. The stamp (dist/.build-stamp.json) is written only when tsc
 * succeeds, and its time is taken before tsc reads any source, so a file saved while tsc ran is
 * newer than the stamp: devstack/build-stamp.ts counts dist/ current only when every source is older.
 * `--if-stale`: no build when dist/ is current already (below).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
// `--if-stale` (npm pack's prepack): nothing to do when dist/ is a build of the current sources, as
// devstack/build-stamp.ts judges it, read from that very build. CI's pack test ran after `npm test`
// had built dist/, and compiled everything again (~25 s of its 43 s, session 24).
if (process.argv.includes('--if-stale')) {
  const check = path.join(dist, 'devstack', 'build-stamp.js');
  if (fs.existsSync(check) && createRequire(import.meta.url)(check).isDistCurrent(root)) {
    console.error('dist/ is a build of the current sources: not built again');
    process.exit(0);
  }
}
fs.rmSync(dist, { recursive: true, force: true });
const startedMs = Date.now();
try {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
} catch {
  process.exit(1); // tsc printed why
}
fs.writeFileSync(path.join(dist, '.build-stamp.json'), `${JSON.stringify({ startedMs })}\n`);
