/**
 * `containers/compose <args>`: docker compose with the podman override on this machine, for
 * people (the smoke test uses the same pieces). It starts podman's API socket and the healthcheck
 * ticker (no systemd here, so podman runs no healthchecks by itself) for as long as the compose
 * command runs, so `up --wait` and `depends_on: service_healthy` work; containers outlive it.
 * Project name: COMPOSE_PROJECT_NAME or sf-neurons.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeFor, ROOT } from './compose';
import { startApiService, startHealthTicker } from './podman';

async function main(): Promise<number> {
  const project = process.env.COMPOSE_PROJECT_NAME ?? 'sf-neurons';
  const tmp = mkdtempSync(join(tmpdir(), 'sfn-compose-'));
  process.env.CONTAINERS_CONF ??= join(ROOT, 'containers', 'containers.conf');
  // The simulator's port is interpolated into its command, so it is a variable, not an override.
  process.env.DEMO_SIMULATOR_PORT ??= '26443';
  const api = await startApiService(join(tmp, 'podman.sock'));
  const ticker = startHealthTicker(project);
  const env = { ...process.env, DOCKER_HOST: `unix://${join(tmp, 'podman.sock')}` };
  const compose = composeFor(process.env.DOCKER_COMPOSE ?? 'docker-compose', project, env, { profiles: [] });
  try {
    await compose.run(process.argv.slice(2), { inherit: true });
    return 0;
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 1;
  } finally {
    await ticker.stop();
    await api.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code));
