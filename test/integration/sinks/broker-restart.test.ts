import { DedicatedKafka } from '../../support/dedicated-kafka';
import { SinkHarness } from '../../support/sink-harness';
import { login, loginId, user, userId } from '../../support/sink-fixtures';
import { waitFor } from '../../support/wait';

/**
 * The broker restarted in the middle of a stream. A Kafka broker of this test's own is stopped
 * while the sink consumes and started again on the same data: the consumer group recovers and
 * the tables end with every record, once.
 */
describe('PostgreSQL sink: broker restart', () => {
  const kafka = new DedicatedKafka();
  let h: SinkHarness | undefined;
  afterAll(async () => {
    await h?.close().catch(() => undefined);
    await kafka.remove();
  });

  it('loses and duplicates nothing when the Kafka broker restarts mid-stream', async () => {
    await kafka.start();
    h = await new SinkHarness({ brokers: kafka.brokers, partitions: 2 }).setUp();
    const sink = h.sink();
    await sink.start();
    const produce = async (from: number, to: number, title: string) => {
      const ids = Array.from({ length: to - from }, (_, i) => from + i);
      await h!.produce(
        h!.topics.users,
        ids.map((n) => ({ key: userId(n), value: user(userId(n), { title }) })),
      );
      await h!.produce(
        h!.topics.logins,
        ids.map((n) => ({ key: loginId(n), value: login(loginId(n), userId(n), 1_700_000_000_000 + n) })),
      );
    };
    await produce(0, 300, 'before');
    await waitFor('the sink to write rows', 60_000, async () => (await h!.rows('users', 'id')).length > 0);
    await kafka.stop();
    await kafka.start();
    await produce(200, 500, 'after');
    await h.caughtUp(180_000);

    const { rows } = await h.pool.query(
      `SELECT title, count(*)::int AS n FROM "${h.tables.users}" GROUP BY title ORDER BY title`,
    );
    expect(rows).toEqual([
      { title: 'after', n: 300 },
      { title: 'before', n: 200 },
    ]);
    const { rows: logins } = await h.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM "${h.tables.logins}"`,
    );
    expect(logins).toEqual([{ n: 500, ids: 500 }]);
    await sink.stop();
    await expect(sink.done).resolves.toBeUndefined();
  });
});
