/**
 * A focused sink measurement (not a test): rows/s of the sink over a backlog, into an embedded
 * PostgreSQL of its own with durable settings (fsync on: the shared test server runs with fsync
 * and synchronous_commit off, where the commit mode cannot show), once per mode given.
 *
 *   node -r ts-node/register/transpile-only bench/sink.ts [--users N] [--logins N] [--modes on,off]
 *     [--rounds 2] [--batch-bytes 1048576]
 *
 * KAFKA_BROKERS and SCHEMA_REGISTRY_URL default to the local test services. A mode is the
 * sink's tuning.synchronousCommit (on = wait for the WAL flush of every batch). Each mode runs
 * once per round, alternating, with a fresh group and fresh tables; the figures printed are per run.
 * Also runs on older checkouts of the sink (the mode is then ignored): that is "before".
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pool } from 'pg';
import { startEmbeddedPostgres } from '../sinks/postgres/embedded';

process.env.KAFKA_BROKERS ??= '127.0.0.1:19092';
process.env.SCHEMA_REGISTRY_URL ??= 'http://127.0.0.1:18081/apis/ccompat/v7';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const users = Number(arg('users', '20000'));
  const logins = Number(arg('logins', '60000'));
  const modes = arg('modes', 'on,off').split(',');
  const rounds = Number(arg('rounds', '2'));
  // Smaller fetches make more, smaller transactions: what a sink following a live connector sees.
  const batchBytes = Number(arg('batch-bytes', String(1024 * 1024)));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sink-bench-pg-'));
  const pg = await startEmbeddedPostgres({ dataDir });
  process.env.DATABASE_URL = pg.url;
  // Loaded after DATABASE_URL is set: the harness reads the endpoints from the environment.
  const { SinkHarness } = await import('../test/support/sink-harness');
  const { login, loginId, user, userId } = await import('../test/support/sink-fixtures');
  const h = await new SinkHarness({ databaseUrl: pg.url }).setUp();
  try {
    const fsync = (await h.pool.query('SHOW fsync')).rows[0].fsync;
    for (let i = 0; i < users; i += 1000) {
      await h.produce(
        h.topics.users,
        Array.from({ length: Math.min(1000, users - i) }, (_, j) => ({
          key: userId(i + j),
          value: user(userId(i + j)),
        })),
      );
    }
    for (let i = 0; i < logins; i += 1000) {
      await h.produce(
        h.topics.logins,
        Array.from({ length: Math.min(1000, logins - i) }, (_, j) => ({
          key: loginId(i + j),
          value: login(loginId(i + j), userId((i + j) % users), 1_700_000_000_000 + i + j),
        })),
      );
    }
    process.stdout.write(
      `sink backlog: ${users} users + ${logins} login events, fetch ${batchBytes} bytes per ` +
        `partition, PostgreSQL fsync=${fsync}\n`,
    );
    for (let round = 1; round <= rounds; round++) {
      for (const mode of modes) {
        const tables = {
          users: { schema: 'public', name: `bench_u_${mode}_${round}` },
          logins: { schema: 'public', name: `bench_l_${mode}_${round}` },
        };
        const sink = h.sink({
          tables,
          groupId: `${h.groupId}-${mode}-${round}`,
          tuning: { synchronousCommit: mode === 'on', maxBytesPerPartition: batchBytes } as never,
        });
        await sink.start();
        // From the first record written: joining the group is not the sink's throughput.
        while (sink.stats().records === 0) await new Promise((r) => setTimeout(r, 5));
        const started = Date.now();
        while (sink.stats().records < users + logins) await new Promise((r) => setTimeout(r, 20));
        const seconds = (Date.now() - started) / 1000;
        await sink.stop();
        const pool = new Pool({ connectionString: pg.url });
        const n = Number(
          (
            await pool.query(
              `SELECT (SELECT count(*) FROM ${tables.users.name}) + (SELECT count(*) FROM ${tables.logins.name}) AS n`,
            )
          ).rows[0].n,
        );
        await pool.end();
        process.stdout.write(
          `synchronous_commit ${mode.padEnd(3)} run ${round}: ${Math.round((users + logins) / seconds)} ` +
            `rows/s (${seconds.toFixed(1)} s, ${sink.stats().batches} batches, ${n} rows)\n`,
        );
      }
    }
  } finally {
    await h.close();
    await pg.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench-sink: ${(err as Error).stack}\n`);
  process.exit(1);
});
