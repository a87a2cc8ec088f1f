import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * Process helpers for the local services: start detached (so a service outlives the command
 * that started it), stop by pid only, and wait for real readiness by polling a probe.
 */

export interface Detached {
  pid: number;
  logFile: string;
}

export function spawnDetached(
  cmd: string,
  args: string[],
  opts: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number },
): Detached {
  const out = fs.openSync(opts.logFile, 'a');
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', out, out],
    uid: opts.uid,
    gid: opts.gid,
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  child.unref();
  return { pid: child.pid, logFile: opts.logFile };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `signal` (default SIGTERM), then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopPid(pid: number, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      await waitUntil(async () => !isAlive(pid), { timeoutMs: 5_000, what: `process ${pid} to exit` });
      return;
    }
    await pause(100);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `probe` until it returns true. This is readiness by observation, not a fixed sleep:
 * it returns as soon as the service answers. `alive` lets it fail fast when the process died.
 */
export async function waitUntil(
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; what: string; alive?: () => boolean; logFile?: string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = 50;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (opts.alive && !opts.alive())
      throw new Error(`${opts.what}: the process exited before it was ready.${logTail(opts.logFile)}`);
    if (Date.now() > deadline)
      throw new Error(`${opts.what}: not ready after ${opts.timeoutMs} ms.${logTail(opts.logFile)}`);
    await pause(delay);
    delay = Math.min(delay * 2, 500);
  }
}

export function logTail(file?: string, lines = 25): string {
  if (!file || !fs.existsSync(file)) return '';
  const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  return `\n--- last lines of ${file} ---\n${text}`;
}

/** Runs a command to completion; throws with its output when it fails. */
export function run(cmd: string, args: string[], opts: { cwd?: string; what: string }): string {
  const res = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw new Error(`${opts.what}: could not run ${cmd}: ${res.error.message}`);
  if (res.status !== 0)
    throw new Error(`${opts.what} failed (exit ${res.status}):\n${(res.stdout + res.stderr).slice(-4000)}`);
  return res.stdout;
}
