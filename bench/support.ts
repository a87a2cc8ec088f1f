import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

/** Shared pieces of the benchmark scripts: child processes and their figures. */
export const ROOT = path.resolve(__dirname, '..');
export const TS_NODE = ['-r', 'ts-node/register/transpile-only'];

export interface SimHandle {
  url: string;
  credentials: { consumerKey: string; consumerSecret: string; username: string; password: string; securityToken: string };
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the Salesforce simulator in a process of its own (its memory and CPU are not the
 * connector's) and waits for it to print its URL.
 */
export async function spawnSimulator(users: number, logins: number, now = new Date().toISOString()): Promise<SimHandle> {
  const child = spawn(process.execPath, [...TS_NODE, path.join(ROOT, 'test/simulator/cli.ts'), '--users', String(users), '--logins', String(logins), '--now', now], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const info = await firstJsonLine<{ url: string; credentials: SimHandle['credentials'] }>(child);
  return {
    ...info,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Resolves with the first line of the child's stdout that parses as JSON. */
export function firstJsonLine<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        resolve(JSON.parse(line) as T);
        lines.close();
      } catch {
        // not the JSON line yet
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before printing its JSON line`)));
  });
}

/** Runs a child to completion; resolves with its stdout. */
export function runChild(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${path.basename(cmd)} exited ${code}:\n${out.slice(-2000)}`))));
  });
}

/** Peak resident memory of this process so far, in MB (getrusage maxrss). */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
