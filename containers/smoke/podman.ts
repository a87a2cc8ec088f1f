/**
 * podman for the smoke test: its Docker-compatible API socket (what docker compose talks to), and
 * the healthchecks. podman schedules healthchecks with systemd timers; these machines have no
 * systemd, so without help every container would stay "starting" and no `service_healthy`
 * dependency would ever start. The ticker runs `podman healthcheck run` for each container of the
 * project on the container's own interval, which is what the timer would do.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';

const exec = promisify(execFile);

export function podman(args: string[]): Promise<string> {
  return exec('podman', args, { maxBuffer: 64 * 1024 * 1024 }).then((r) => r.stdout);
}

/** `podman system service` on a unix socket of its own; stop() ends it (by its pid). */
export async function startApiService(socket: string, deadlineMs = 30_000): Promise<{ stop(): Promise<void> }> {
  const args = ['system', 'service', '--time=0', `unix://${socket}`];
  const child: ChildProcess = spawn('podman', args, { stdio: 'ignore' });
  const ping = () =>
    new Promise<boolean>((resolve) => {
      const req = request({ socketPath: socket, path: '/_ping' }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
  const until = Date.now() + deadlineMs;
  while (!(await ping())) {
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGTERM');
      throw new Error(`podman system service did not answer on ${socket}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Pids of conmon processes (container monitors, exec sessions included) of the project's containers. */
export function conmonsOf(project: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const name = args[args.indexOf('-n') + 1] ?? '';
      if (args[0].endsWith('conmon') && name.startsWith(`${project}-`)) pids.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

/** Go duration text as podman prints it ("10s", "1m30s", "500ms") → milliseconds. */
export function durationMs(text: string): number {
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return ms;
}

/** Runs the healthchecks of the project's running containers, each on its interval. */
export function startHealthTicker(project: string): { stop(): Promise<void> } {
  const intervals = new Map<string, number | null>();
  const due = new Map<string, number>();
  const running = new Set<Promise<unknown>>();
  let stopped = false;
  const tick = async (): Promise<void> => {
    const label = `label=com.docker.compose.project=${project}`;
    const listed = await podman(['ps', '-q', '--no-trunc', '--filter', label]).catch(() => '');
    const ids = listed.split('\n').filter(Boolean);
    for (const id of ids) {
      if (!intervals.has(id)) {
        const format = '{{if .Config.Healthcheck}}{{.Config.Healthcheck.Interval}}{{end}}';
        const text = await podman(['inspect', id, '--format', format]).catch(() => '');
        const ms = durationMs(text.trim());
        intervals.set(id, ms > 0 ? ms : null);
        if (ms > 0) due.set(id, Date.now() + ms);
      }
      const interval = intervals.get(id);
      if (!interval || stopped || Date.now() < due.get(id)!) continue;
      due.set(id, Number.POSITIVE_INFINITY); // not again while this check runs
      const check = podman(['healthcheck', 'run', id])
        .catch(() => undefined)
        .finally(() => {
          due.set(id, Date.now() + interval);
          running.delete(check);
        });
      running.add(check);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await tick();
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await Promise.all([...running]);
    },
  };
}
