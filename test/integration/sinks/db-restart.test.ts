import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../../sinks/postgres/embedded';
import { createLogger } from '../../../kernel/logger';
import { SinkHarness } from '../../support/sink-harness';
import { login, loginId, user, userId } from '../../support/sink-fixtures';
import { waitFor } from '../../support/wait';

/**
 * The database restarted in the middle of a stream. A dedicated PostgreSQL (own data directory
 * and port, started by this test) is stopped while the sink is writing and records keep coming,
 * then started again: the sink retries with backoff and ends with every record, once.
 */
describe('PostgreSQL sink: database restart', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurons-sink-restart-'));
  let db: EmbeddedPostgres | undefined;
  let h: SinkHarness | undefined;
  afterAll(async () => {
    await h?.close();
    await db?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('loses and duplicates nothing when PostgreSQL restarts mid-stream', async () => {
    fs.chmodSync(root, 0o755);
    const dataDir = path.join(root, 'pg');
    db = await startEmbeddedPostgres({ dataDir });
    const port = db.port;
    h = await new SinkHarness({ databaseUrl: db.url }).setUp();
    const logLines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (line) => logLines.push(line) });
    const sink = h.sink({
      logger,
      tuning: {
        retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 100, maxDelayMs: 500 },
        maxBytesPerPartition: 64 * 1024,
      },
    });
    await sink.start();

    const chunk = (c: number) => Array.from({ length: 200 }, (_, i) => c * 200 + i);
    const produceChunk = async (c: number) => {
      // each chunk updates the previous chunk's users too, so lost or reordered writes would show
      await h!.produce(
        h!.topics.users,
        [...chunk(c), ...(c > 0 ? chunk(c - 1) : [])].map((n) => ({
          key: userId(n),
          value: user(userId(n), { title: `chunk ${c}` }),
        })),
      );
      await h!.produce(
        h!.topics.logins,
        chunk(c).map((n) => ({ key: loginId(n), value: login(loginId(n), userId(n), 1_700_000_000_000 + n) })),
      );
    };

    await produceChunk(0);
    await produceChunk(1);
    await waitFor(
      'the sink to write some rows',
      30_000,
      async () =>
        (await h!.pool.query(`SELECT count(*)::int AS n FROM "${h!.tables.users}"`).catch(() => ({ rows: [{ n: 0 }] })))
          .rows[0].n > 0,
    );
    await db.stop(); // fast shutdown: the sink's sessions are ended mid-stream
    await produceChunk(2);
    await produceChunk(3);
    // the sink really met the outage: it is retrying a write against the stopped server
    await waitFor('the sink to retry a write', 30_000, async () =>
      logLines.some((l) => l.includes('writing a batch failed; retrying')),
    );
    db = await startEmbeddedPostgres({ dataDir, port });
    await produceChunk(4);
    await h.caughtUp(120_000);

    const { rows: users } = await h.pool.query(
      `SELECT title, count(*)::int AS n FROM "${h.tables.users}" GROUP BY title ORDER BY title`,
    );
    expect(users).toEqual([
      { title: 'chunk 1', n: 200 },
      { title: 'chunk 2', n: 200 },
      { title: 'chunk 3', n: 200 },
      { title: 'chunk 4', n: 400 },
    ]);
    const { rows: logins } = await h.pool.query(
      'SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, min(id) AS first, max(id) AS last ' +
        `FROM "${h.tables.logins}"`,
    );
    expect(logins).toEqual([{ n: 1000, ids: 1000, first: loginId(0), last: loginId(999) }]);
    expect(await h.deadLetters()).toEqual([]);
    const codes = new Set(logLines.map((l) => JSON.parse(l) as { code?: string }).map((l) => l.code));
    expect([...codes].filter((c) => c === 'DB_CONNECTION_LOST' || c === 'DB_RESTARTING').length).toBeGreaterThan(0);
    await sink.stop();
    await expect(sink.done).resolves.toBeUndefined(); // it never gave up
  });
});
