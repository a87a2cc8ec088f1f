import avro from 'avsc';
import { loadConnectorSchemas } from '../../../schemas/avro';
import { unframe } from '../../../schemas/wire';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { replay, type ReplayProgress } from '../../../sinks/postgres/replay';
import { SinkHarness } from '../../support/sink-harness';
import { login, loginId, user, userId } from '../../support/sink-fixtures';

/**
 * Replay for backfill: after the sink has run (and the live table has drifted from Kafka),
 * replay rebuilds the tables from the earliest offsets into fresh tables and swaps them in. The
 * users table then equals the latest value per key in the compacted topic, row for row, with
 * tombstoned users absent; the live sink keeps writing into the swapped-in tables.
 */
describe('PostgreSQL sink: replay', () => {
  let h: SinkHarness;
  beforeEach(async () => (h = await new SinkHarness({ partitions: 3 }).setUp()));
  afterEach(() => h.close());

  it('rebuilds the tables from the earliest offsets and swaps them in', async () => {
    const users = [];
    for (let round = 0; round < 3; round++) {
      for (let n = 0; n < 120; n++)
        if ((n + round) % 2 === 0 || round === 0)
          users.push({
            key: userId(n),
            value: user(userId(n), { title: `round ${round}`, managerId: userId((n * 7) % 120) }),
          });
    }
    for (const n of [5, 10, 15, 20]) users.push({ key: userId(n), value: null });
    users.push({ key: userId(10), value: user(userId(10), { title: 'recreated' }) });
    await h.produce(h.topics.users, users);
    await h.produce(
      h.topics.logins,
      Array.from({ length: 300 }, (_, i) => ({
        key: loginId(i % 250),
        value: login(loginId(i % 250), userId(i % 120), 1_700_000_000_000 + i),
      })),
    );

    const sink = h.sink();
    await sink.start();
    await h.caughtUp();
    // The table drifts from Kafka: a row nobody published, a hand edit, a lost row.
    await h.pool.query(
      `INSERT INTO "${h.tables.users}" (id, title, _kafka_partition, _kafka_offset) ` +
        "VALUES ('005XXXXXXXXXXXXAAA', 'stray', 0, 0)",
    );
    await h.pool.query(`UPDATE "${h.tables.users}" SET title = 'hand edit' WHERE id = $1`, [userId(1)]);
    await h.pool.query(`DELETE FROM "${h.tables.users}" WHERE id = $1`, [userId(2)]);

    const progress: ReplayProgress[] = [];
    const result = await replay({
      ...h.deps(),
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 100,
    });

    // Expected: the latest value per key in the topic, read independently of the sink.
    const keyType = avro.Type.forSchema('string');
    const valueType = avro.Type.forSchema(loadConnectorSchemas().userValue);
    const latest = new Map<string, { value: Record<string, unknown>; offset: string } | null>();
    await readToEnd(h.kafka, h.topics.users, (m) => {
      const key = keyType.fromBuffer(unframe(m.key!).body) as string;
      latest.set(
        key,
        m.value === null
          ? null
          : { value: valueType.fromBuffer(unframe(m.value).body) as Record<string, unknown>, offset: m.offset },
      );
    });
    const expected = [...latest]
      .filter(([, v]) => v !== null)
      .map(([id, v]) => ({
        id,
        title: v!.value.title,
        manager_id: v!.value.managerId,
        email: v!.value.email,
        created_at: new Date(v!.value.createdAt as number),
        preferences: v!.value.preferences,
        _kafka_offset: v!.offset,
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
    const rows = await h.rows('users', 'id, title, manager_id, email, created_at, preferences, _kafka_offset');
    expect(rows).toEqual(expected);
    expect(rows.map((r) => r.id)).not.toEqual(
      expect.arrayContaining([userId(5), userId(15), userId(20), '005XXXXXXXXXXXXAAA']),
    );
    expect(rows.find((r) => r.id === userId(10))?.title).toBe('recreated');
    expect((await h.rows('logins', 'id')).length).toBe(250);

    expect(result.swapped).toEqual({
      [h.tables.users]: expect.stringMatching(/__replay_/),
      [h.tables.logins]: expect.stringMatching(/__replay_/),
    });
    const { rows: leftovers } = await h.pool.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE $1`, [
      `${h.tables.users}__%`,
    ]);
    expect(leftovers).toEqual([]);
    const { rows: indexes } = await h.pool.query(`SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY 1`, [
      h.tables.users,
    ]);
    expect(indexes.map((i) => i.indexname)).toEqual([
      `${h.tables.users}_email_idx`,
      `${h.tables.users}_manager_id_idx`,
      `${h.tables.users}_pkey`,
      `${h.tables.users}_username_idx`,
    ]);

    const done = progress[progress.length - 1];
    expect(done).toMatchObject({ phase: 'done', lag: 0 });
    expect(done.records).toBeGreaterThanOrEqual(latest.size);
    expect(done.recordsPerSecond).toBeGreaterThan(0);

    // The live sink goes on writing, into the swapped-in table.
    await h.produce(h.topics.users, [{ key: userId(1), value: user(userId(1), { title: 'after replay' }) }]);
    await h.caughtUp();
    expect((await h.rows('users', 'id, title')).find((r) => r.id === userId(1))?.title).toBe('after replay');
    await sink.stop();
  });
});
