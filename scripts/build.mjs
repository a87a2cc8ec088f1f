/* global process, URL */
/**
 * `npm run build`: dist/ compiled from nothing by tsc (tsconfig.json), then stamped with the time
 * the build began. tsc never deletes an output whose source is gone, so dist/ is emptied first: no
 * old .js is left for Node to resolve. The stamp (dist/.build-stamp.json) is written only when tsc
 * succeeds, and its time is taken before tsc reads any source, so a file saved while tsc ran is
 * newer than the stamp: devstack/build-stamp.ts counts dist/ current only when every source is older.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
fs.rmSync(dist, { recursive: true, force: true });
const startedMs = Date.now();
try {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
} catch {
  process.exit(1); // tsc printed why
}
fs.writeFileSync(path.join(dist, '.build-stamp.json'), `${JSON.stringify({ startedMs })}\n`);
