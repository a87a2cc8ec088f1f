import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The Python side of the interop test: a venv with the pinned requirements.txt, created on
 * first use under the connector's cache folder (outside the checkout) and re-created when the
 * requirements change. A missing python3 is an error with the fix, never a skip.
 */
const CACHE_DIR = process.env.SF_CONNECTOR_CACHE ?? path.join(os.homedir(), '.cache', 'sf-neurons-connector');
const VENV = path.join(CACHE_DIR, 'py-interop');
const REQUIREMENTS = path.join(__dirname, 'requirements.txt');
export const READER_SCRIPT = path.join(__dirname, 'read_with_confluent.py');

/** Returns the venv's python, creating the venv when it is missing or out of date. */
export function ensureInteropPython(): string {
  const python = path.join(VENV, 'bin', 'python');
  const stamp = path.join(VENV, '.requirements-sha256');
  const wanted = createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).digest('hex');
  if (fs.existsSync(python) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === wanted) return python;

  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'python3 is missing: the interoperability test decodes records with Python confluent-kafka. ' +
        'Install Python 3.9+ with venv and pip (Debian: apt-get install -y python3 python3-venv python3-pip).',
    );
  }
  // The stamp is written last: a venv without it (an interrupted install) is rebuilt from scratch.
  fs.rmSync(VENV, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(VENV), { recursive: true });
  step('python3', ['-m', 'venv', VENV], 'creating the Python venv');
  step(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS],
    `pip install -r ${REQUIREMENTS}`,
  );
  fs.writeFileSync(stamp, wanted);
  return python;
}

function step(cmd: string, args: string[], what: string): void {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 600_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${what} failed: ${(e.stderr ?? '').trim().split('\n').slice(-15).join('\n') || e.message}`, {
      cause: err,
    });
  }
}
