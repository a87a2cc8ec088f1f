/**
 * docker compose (v2) against podman's API socket, with the real docker-compose.yml and the
 * podman override (containers/compose.podman.yaml) only.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { podman } from './podman';

export const ROOT = join(__dirname, '..', '..');

export interface Compose {
  /** Runs `docker compose <args>`; resolves with stdout, rejects (with its output) on a non-zero exit. */
  run(args: string[], opts?: { quiet?: boolean; inherit?: boolean }): Promise<string>;
  /**
   * One SQL statement through psql in the postgres service; rows as lines, fields split on |.
   * With `podman exec`, not `compose exec`: an exec through podman 4.3's API leaves its conmon
   * process running after the container is gone.
   */
  sql(statement: string): Promise<string[][]>;
}

export function composeFor(
  binary: string,
  project: string,
  env: NodeJS.ProcessEnv,
  opts = { profiles: ['demo'] },
): Compose {
  const files = [join(ROOT, 'docker-compose.yml'), join(ROOT, 'containers', 'compose.podman.yaml')];
  const base = ['-p', project, ...files.flatMap((f) => ['-f', f]), ...opts.profiles.flatMap((p) => ['--profile', p])];
  type RunOpts = { quiet?: boolean; inherit?: boolean };
  const run = (args: string[], opts: RunOpts = {}) =>
    new Promise<string>((resolve, reject) => {
      const stdio = opts.inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'];
      const child = spawn(binary, [...base, ...args], { cwd: ROOT, env, stdio: stdio as 'inherit' | 'pipe' });
      let out = '';
      let err = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d;
      });
      child.stderr?.on('data', (d: Buffer) => {
        err += d;
        if (!opts.quiet) process.stderr.write(d);
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`docker compose ${args.join(' ')} exited ${code}\n${out}${err}`)),
      );
    });
  return {
    run,
    async sql(statement) {
      const psql = ['psql', '-U', 'neurons', '-d', 'neurons', '-At', '-v', 'ON_ERROR_STOP=1', '-c', statement];
      const filters = [`label=com.docker.compose.project=${project}`, 'label=com.docker.compose.service=postgres'];
      const [id] = (await podman(['ps', '-q', ...filters.flatMap((f) => ['--filter', f])])).split('\n').filter(Boolean);
      if (!id) throw new Error('the postgres service is not running');
      const out = await podman(['exec', id, ...psql]);
      return out
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('|'));
    },
  };
}
