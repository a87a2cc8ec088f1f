import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_DIR, ServiceEndpoints, endpoints } from './env';
import { kafka } from './kafka';
import { ensureDatabase, postgres } from './postgres';
import { isAlive, stopPid, waitUntil } from './proc';
import { registry } from './registry';
import type { LocalService } from './service';

/**
 * Starts the real servers the integration tests need: each one only when nothing answers on
 * its port yet. Returns what it started, so the caller stops exactly those, by pid.
 */
export const ALL: LocalService[] = [kafka, registry, postgres];

export interface StartedService {
  name: string;
  pid: number;
  logFile: string;
  ms: number;
  stopSignal?: NodeJS.Signals;
}

export interface ServicesHandle {
  endpoints: ServiceEndpoints;
  started: StartedService[];
  reused: string[];
}

export async function ensureServices(log: (line: string) => void = () => {}): Promise<ServicesHandle> {
  fs.mkdirSync(RUN_DIR, { recursive: true });
  const started: StartedService[] = [];
  const reused: string[] = [];
  try {
    // Downloads first, one at a time (they share Maven's local repository).
    const missing: LocalService[] = [];
    for (const svc of ALL) {
      if (await svc.ready().catch(() => false)) {
        reused.push(svc.name);
        log(`${svc.name}: already running, reused`);
      } else {
        svc.install();
        missing.push(svc);
      }
    }
    // Then start them side by side and wait for each to answer.
    await Promise.all(
      missing.map(async (svc) => {
        const t0 = Date.now();
        const proc = await svc.start();
        started.push({ name: svc.name, pid: proc.pid, logFile: proc.logFile, ms: 0, stopSignal: svc.stopSignal });
        await waitUntil(() => svc.ready().catch(() => false), {
          timeoutMs: svc.readyTimeoutMs,
          what: `${svc.name} (pid ${proc.pid})`,
          alive: () => isAlive(proc.pid),
          logFile: proc.logFile,
        });
        started.find((s) => s.pid === proc.pid)!.ms = Date.now() - t0;
        log(`${svc.name}: started (pid ${proc.pid}) and ready in ${Date.now() - t0} ms`);
      }),
    );
    await ensureDatabase();
  } catch (err) {
    await stopServices(started);
    throw err;
  }
  return { endpoints: endpoints(), started, reused };
}

export async function stopServices(started: StartedService[]): Promise<void> {
  await Promise.all(started.map((s) => stopPid(s.pid, s.stopSignal)));
}

/** The `services:start` command records what it started here, for `services:stop`. */
export const STATE_FILE = path.join(RUN_DIR, 'services.json');
