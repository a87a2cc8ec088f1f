/**
 * The compose smoke test: the real docker-compose.yml, with only containers/compose.podman.yaml
 * over it, run by docker compose v2 against podman, on the images containers/build.sh made.
 *  0. Every healthcheck fails while its service is not running (vacuity.ts).
 *  1. Kafka, the registry, db-secrets and PostgreSQL up; every healthcheck passes (--wait).
 *  2. The demo profile: the simulator, connector-demo (one sync, then scheduled), then sink-demo.
 *  3. The sink container is restarted while it writes (if it is still writing), then again
 *     after; PostgreSQL's tables must hold exactly the simulator's users (every state the demo
 *     selects) and each of its login events once. Source of truth: the simulator itself, started
 *     here in-process with the same seed and sizes (its data is deterministic).
 *  4. Down with volumes; no container, volume or process of the run is left.
 * Env: DOCKER_COMPOSE (the compose v2 binary), SMOKE_SEED (replay a seed), SMOKE_USERS,
 * SMOKE_LOGINS, SMOKE_PROJECT (compose project name, default sfn-smoke).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { startSimulator } from '../../simulator';
import { composeFor, ROOT, type Compose } from './compose';
import { conmonsOf, podman, startApiService, startHealthTicker } from './podman';
import { checksFailWithoutTheirService } from './vacuity';

const IMAGES = [
  'localhost/sf-neurons/kafka:3.9.1',
  'localhost/sf-neurons/apicurio-registry:3.3.3',
  'localhost/sf-neurons/postgres:15',
  'sf-neurons-connector:local',
  'sf-neurons-connector-demo:local',
];
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
const say = (text: string) => console.log(`[smoke ${seconds()}s] ${text}`);

async function poll<T>(
  what: string,
  deadlineMs: number,
  probe: () => Promise<T | undefined>,
  everyMs = 1000,
): Promise<T> {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) {
      const lastError = last ? ` (last error: ${String(last)})` : '';
      throw new Error(`${what}: not reached within ${deadlineMs / 1000}s${lastError}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function tableState(compose: Compose): Promise<{ users: string[]; logins: number; distinctLogins: number }> {
  const users = (await compose.sql('SELECT id FROM neurons_users ORDER BY id')).map(([id]) => id);
  const [[logins, distinctLogins]] = await compose.sql('SELECT count(*), count(DISTINCT id) FROM neurons_login_events');
  return { users, logins: Number(logins), distinctLogins: Number(distinctLogins) };
}

async function main(): Promise<void> {
  const seed = Number(process.env.SMOKE_SEED ?? randomInt(1, 2 ** 31 - 1));
  const users = Number(process.env.SMOKE_USERS ?? 2000);
  const logins = Number(process.env.SMOKE_LOGINS ?? 30000);
  const project = process.env.SMOKE_PROJECT ?? 'sfn-smoke';
  const binary = process.env.DOCKER_COMPOSE ?? 'docker-compose';
  say(`seed ${seed} (replay: SMOKE_SEED=${seed}), ${users} users, ${logins} login events, project ${project}`);

  const sim = await startSimulator({ seed, users, logins });
  const expectedUsers = sim.userIds(['active', 'inactive', 'frozen']).sort();
  const expectedLogins = sim.loginCount();
  await sim.close();

  for (const image of IMAGES) {
    await podman(['image', 'exists', image]).catch(() => {
      throw new Error(`image ${image} is missing: run containers/build.sh`);
    });
  }
  const tmp = mkdtempSync(join(tmpdir(), 'sfn-smoke-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? join(ROOT, 'containers', 'containers.conf'),
    DOCKER_HOST: `unix://${join(tmp, 'podman.sock')}`,
    DEMO_SEED: String(seed),
    DEMO_USERS: String(users),
    DEMO_LOGINS: String(logins),
    DEMO_SIMULATOR_PORT: '26443',
  };
  process.env.CONTAINERS_CONF = env.CONTAINERS_CONF;
  const api = await startApiService(join(tmp, 'podman.sock'));
  const ticker = startHealthTicker(project);
  const compose = composeFor(binary, project, env);
  let failed: unknown;
  // Interrupted (Ctrl-C, CI timeout): tear down all the same, then exit.
  let teardown: Promise<void> | undefined;
  const down = (): Promise<void> =>
    (teardown ??= (async () => {
      await compose.run(['down', '-v', '--remove-orphans', '-t', '30']).catch((err) => {
        failed ??= err;
      });
      await ticker.stop();
      await api.stop();
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: tearing down`);
      void down().finally(() => process.exit(130));
    });
  }
  const phases: string[] = [];
  const phase = (name: string) => {
    phases.push(`${name} ${seconds()}s`);
    say(name);
  };
  try {
    await compose.run(['down', '-v', '--remove-orphans', '-t', '10'], { quiet: true });
    phase(`healthchecks fail while nothing runs: ${(await checksFailWithoutTheirService(compose)).join(', ')}`);
    await compose.run(['up', '-d', '--wait', '--wait-timeout', '600', 'kafka', 'registry', 'postgres']);
    phase('kafka, registry, postgres healthy');
    // The connector first (healthy = its first sync is done, everything is in Kafka), then the
    // sink, so that the sink has a backlog to write when it is restarted.
    await compose.run(['up', '-d', '--wait', '--wait-timeout', '900', '--no-deps', 'simulator']);
    await compose.run(['up', '-d', '--wait', '--wait-timeout', '900', '--no-deps', 'connector-demo']);
    phase('simulator, connector-demo healthy (first sync done)');
    await compose.run(['up', '-d', '--no-deps', 'sink-demo']);

    // Restart the sink while it writes, if it still is: what it had not committed must come again.
    // One cheap query, polled often: the sink writes the whole backlog in seconds.
    const counts = 'SELECT (SELECT count(*) FROM neurons_users), (SELECT count(*) FROM neurons_login_events)';
    const [users0, logins0] = await poll(
      'first rows in PostgreSQL',
      600_000,
      async () => {
        const [[u, l]] = await compose.sql(counts);
        return Number(u) + Number(l) > 0 ? [u, l] : undefined;
      },
      100,
    );
    say(`restarting sink-demo at ${users0}/${expectedUsers.length} users, ${logins0}/${expectedLogins} logins`);
    await compose.run(['restart', '-t', '30', 'sink-demo']);
    const complete = async () => {
      const s = await tableState(compose);
      return s.users.length >= expectedUsers.length && s.logins >= expectedLogins ? s : undefined;
    };
    await poll('all users and logins in PostgreSQL', 900_000, complete);
    phase('tables complete after the restart');
    say('restarting sink-demo again, after it caught up');
    await compose.run(['restart', '-t', '30', 'sink-demo']);
    await compose.run(['up', '-d', '--wait', '--wait-timeout', '300', 'sink-demo']);
    const after = await tableState(compose);
    phase('sink-demo healthy after the restart');

    const missing = expectedUsers.filter((id) => !after.users.includes(id));
    const extra = after.users.filter((id) => !expectedUsers.includes(id));
    const problems = [
      missing.length && `${missing.length} users missing (${missing.slice(0, 5).join(', ')})`,
      extra.length && `${extra.length} users not in the simulator (${extra.slice(0, 5).join(', ')})`,
      after.users.length !== new Set(after.users).size && 'duplicate user rows',
      after.logins !== expectedLogins && `${after.logins} login rows, the simulator has ${expectedLogins}`,
      after.distinctLogins !== after.logins && `${after.logins - after.distinctLogins} duplicate login rows`,
    ].filter(Boolean);
    if (problems.length) throw new Error(`PostgreSQL does not hold the simulator's data: ${problems.join('; ')}`);
    say(`PostgreSQL holds exactly the simulator's ${expectedUsers.length} users and ${expectedLogins} login events`);
  } catch (err) {
    failed = err;
    await compose.run(['ps', '-a'], { quiet: true }).then(
      (out) => console.error(out),
      () => undefined,
    );
    await compose.run(['logs', '--no-color', '--tail', '40'], { quiet: true }).then(
      (out) => console.error(out),
      () => undefined,
    );
  } finally {
    await down();
    phase('down, volumes removed');
    const label = `label=com.docker.compose.project=${project}`;
    const left = [
      ...(await podman(['ps', '-a', '-q', '--filter', label])).split('\n').filter(Boolean),
      ...(await podman(['volume', 'ls', '-q', '--filter', label])).split('\n').filter(Boolean),
    ];
    // Container monitors end with their containers; give them a moment, then none may remain.
    const monitors = await poll('conmon processes of the project ended', 15_000, async () => {
      const pids = conmonsOf(project);
      return pids.length === 0 ? pids : undefined;
    }).catch(() => conmonsOf(project));
    if (monitors.length) left.push(`conmon processes ${monitors.join(' ')}`);
    if (left.length) failed ??= new Error(`left behind: ${left.join(', ')}`);
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`[smoke] phases: ${phases.join(' | ')}`);
  if (failed) throw failed;
  say('passed');
}

main().catch((err: unknown) => {
  console.error(`[smoke] FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
