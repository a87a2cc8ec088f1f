import { Client } from 'pg';
import { createTopicsReady } from '../../../kafka/topics';
import type { Logger } from '../../../kernel/logger';
import { mulberry32 } from '../../../simulator/prng';
import { services } from '../../support/services';
import { SinkHarness, type Produce } from '../../support/sink-harness';
import { user, userId } from '../../support/sink-fixtures';
import { waitFor } from '../../support/wait';

/**
 * Bounded retries: a dead-letter topic that refuses writes stops the sink with what to fix
 * (instead of stalling it forever behind a green /health); a statement that hangs on a lock
 * held by another session times out and is retried from the stored offsets, and /health says
 * so meanwhile. BOUNDED_SEED=<n> replays a run.
 */
const seed = Number(process.env.BOUNDED_SEED ?? Math.floor(Math.random() * 2 ** 31));

function capturing(): Logger & { warnings: { msg: string; fields?: Record<string, unknown> }[] } {
  const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
  const logger = {
    warnings,
    debug() {},
    info() {},
    error() {},
    warn: (msg: string, fields?: Record<string, unknown>) => void warnings.push({ msg, fields }),
    child: () => logger,
  };
  return logger;
}

describe(`PostgreSQL sink: bounded retries (BOUNDED_SEED=${seed})`, () => {
  let h: SinkHarness;
  beforeEach(async () => (h = await new SinkHarness().setUp()));
  afterEach(() => h.close());

  it('dead-letter topic refusing the record (too large): sink stops with the fix; offset stays before it', async () => {
    const rnd = mulberry32(seed);
    const admin = h.kafka.admin();
    await admin.connect();
    await createTopicsReady(admin, [
      { topic: h.topics.deadLetter, configEntries: [{ name: 'max.message.bytes', value: '256' }] },
    ]);
    await admin.disconnect();
    const before = Math.floor(rnd() * 20);
    const records: Produce[] = Array.from({ length: before }, (_, i) => ({ key: userId(i), value: user(userId(i)) }));
    // Not wire format: a bad record, dead-lettered whole.
    records.push({ key: userId(999), value: Buffer.alloc(2048, 'x') });
    records.push(
      ...Array.from({ length: 1 + Math.floor(rnd() * 20) }, (_, i) => ({
        key: userId(100 + i),
        value: user(userId(100 + i)),
      })),
    );
    await h.produce(h.topics.users, records);

    const sink = h.sink({
      tuning: { retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 20, maxDelayMs: 200 } },
    });
    let stopped: (Error & { code?: string }) | undefined;
    sink.done.catch((err: Error) => (stopped = err));
    await sink.start();
    await waitFor('the sink to stop on the unwritable dead-letter topic', 60_000, async () => stopped !== undefined);
    expect(stopped).toMatchObject({ code: 'DEAD_LETTER_UNWRITABLE' });
    expect(stopped!.message).toMatch(/MESSAGE_TOO_LARGE.*max\.message\.bytes/);
    const { rows } = await h.pool.query('SELECT next_offset FROM neurons_sink_offsets WHERE table_name = $1', [
      h.tables.users,
    ]);
    for (const r of rows) expect(Number(r.next_offset)).toBeLessThanOrEqual(before);
    expect((await h.rows('users', 'id')).length).toBeLessThanOrEqual(before);
  });

  it('a statement stuck on a lock another session holds times out, /health says why; retried once freed', async () => {
    const rnd = mulberry32(seed + 1);
    const keys = 5 + Math.floor(rnd() * 30);
    await h.produce(
      h.topics.users,
      Array.from({ length: keys }, (_, i) => ({ key: userId(i), value: user(userId(i), { title: 'first' }) })),
    );
    const logger = capturing();
    const sink = h.sink({
      logger,
      tuning: {
        statementTimeoutMs: 500,
        retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 50, maxDelayMs: 300 },
      },
    });
    await sink.start();
    await h.caughtUp();

    const other = new Client({ connectionString: services().DATABASE_URL });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`LOCK TABLE "${h.tables.users}" IN ACCESS EXCLUSIVE MODE`);
      const latest = new Map<string, string>();
      const second: Produce[] = [];
      for (let i = 0; i < keys; i++) {
        if (rnd() < 0.5) continue;
        second.push({ key: userId(i), value: user(userId(i), { title: `second-${i}` }) });
        latest.set(userId(i), `second-${i}`);
      }
      second.push({ key: userId(0), value: user(userId(0), { title: 'second-0' }) });
      latest.set(userId(0), 'second-0');
      await h.produce(h.topics.users, second);

      await waitFor('the blocked batch to time out and be retried', 60_000, async () =>
        logger.warnings.some((w) => w.fields?.code === 'DB_STATEMENT_TIMEOUT'),
      );
      const health = await sink.health();
      expect(health.ready).toBe(false);
      expect(health.reasons.join('\n')).toMatch(
        new RegExp(`${h.topics.users}\\[0\\] waits: writing a batch failed \\(DB_STATEMENT_TIMEOUT\\)`),
      );
      expect(health.partitions.find((p) => p.topic === h.topics.users)?.lag).toBeGreaterThan(0);

      await other.query('COMMIT');
      await h.caughtUp();
      const rows = await h.rows('users', 'id, title');
      expect(rows).toEqual(
        Array.from({ length: keys }, (_, i) => ({ id: userId(i), title: latest.get(userId(i)) ?? 'first' })),
      );
      await waitFor('/health to be ready again', 30_000, async () => (await sink.health()).ready);
    } finally {
      await other.end().catch(() => undefined);
    }
  });
});
