import { replay } from '../../../sinks/postgres/replay';
import { mulberry32 } from '../../../simulator/prng';
import { SinkHarness, type Produce } from '../../support/sink-harness';
import { login, loginId, user, userId } from '../../support/sink-fixtures';

/**
 * Replay is non-destructive: the live tables stay (same table, the operator's index, grant,
 * comment and view kept), login events older than the topic's retention stay, another
 * connector's rows in the same table stay, one stream can be rebuilt alone; users absent from
 * the compacted topic are removed (reconciliation). REPLAY_SEED=<n> replays a run.
 */
const seed = Number(process.env.REPLAY_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe(`PostgreSQL sink: non-destructive replay (REPLAY_SEED=${seed})`, () => {
  let h: SinkHarness;
  beforeEach(async () => (h = await new SinkHarness().setUp()));
  afterEach(async () => {
    await h.pool.query(`DROP VIEW IF EXISTS "${h.tables.users}_v"`).catch(() => undefined);
    await h.close();
    await h.pool.query('DROP ROLE IF EXISTS neurons_test_reader').catch(() => undefined);
  });

  it('keeps operator objects, events older than retention and other connectors rows; reconciles users', async () => {
    const rnd = mulberry32(seed);
    const n = 10 + Math.floor(rnd() * 30);
    const users: Produce[] = Array.from({ length: n }, (_, i) => ({
      key: userId(i),
      value: user(userId(i), { title: `t${i}` }),
    }));
    const old = 5 + Math.floor(rnd() * 20); // login events that retention will remove from the topic
    const recent = 5 + Math.floor(rnd() * 20);
    const logins = Array.from({ length: old + recent }, (_, i) => ({
      key: loginId(i),
      value: login(loginId(i), userId(i % n), 1_600_000_000_000 + i),
    }));
    await h.produce(h.topics.users, users);
    await h.produce(h.topics.logins, logins);
    const sink = h.sink();
    await sink.start();
    await h.caughtUp();
    await sink.stop();

    const t = `"${h.tables.users}"`;
    await h.pool.query(`CREATE INDEX "${h.tables.users}_ops_title" ON ${t} (lower(title))`);
    await h.pool.query('DROP ROLE IF EXISTS neurons_test_reader');
    await h.pool.query('CREATE ROLE neurons_test_reader');
    await h.pool.query(`GRANT SELECT ON ${t} TO neurons_test_reader`);
    await h.pool.query(`COMMENT ON TABLE ${t} IS 'operator comment'`);
    await h.pool.query(`CREATE VIEW "${h.tables.users}_v" AS SELECT id, title FROM ${t}`);
    const oid = async (name: string) =>
      (await h.pool.query('SELECT to_regclass($1)::oid::int AS o', [`"${name}"`])).rows[0].o;
    const before = { users: await oid(h.tables.users), logins: await oid(h.tables.logins) };
    // Another connector's user in the same table, and a stray row of nobody.
    await h.pool.query(
      `INSERT INTO ${t} (id, title, connector_name, _kafka_partition, _kafka_offset) VALUES ` +
        "('005OTHER00000001AA', 'other', 'another-connector', 0, 0), ('005STRAY00000001AA', 'stray', NULL, 0, 0)",
    );

    // Retention: the oldest login events leave the topic; a user leaves the compacted state.
    const admin = h.kafka.admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [h.topics.logins] }); // deleteTopicRecords needs it loaded
    await admin.deleteTopicRecords({ topic: h.topics.logins, partitions: [{ partition: 0, offset: String(old) }] });
    await admin.disconnect();
    const removed = Math.floor(rnd() * n);
    await h.produce(h.topics.users, [{ key: userId(removed), value: null }]);

    const result = await replay({ ...h.deps() });
    expect(result.merged[h.tables.users]).toMatchObject({ removed: 2 });

    expect({ users: await oid(h.tables.users), logins: await oid(h.tables.logins) }).toEqual(before);
    const { rows: idx } = await h.pool.query('SELECT indexname FROM pg_indexes WHERE tablename = $1', [h.tables.users]);
    expect(idx.map((r) => r.indexname)).toContain(`${h.tables.users}_ops_title`);
    const { rows: grant } = await h.pool.query(
      "SELECT has_table_privilege('neurons_test_reader', $1, 'SELECT') AS ok",
      [`"${h.tables.users}"`],
    );
    expect(grant[0].ok).toBe(true);
    const { rows: comment } = await h.pool.query('SELECT obj_description(to_regclass($1)) AS c', [
      `"${h.tables.users}"`,
    ]);
    expect(comment[0].c).toBe('operator comment');
    const { rows: view } = await h.pool.query(`SELECT count(*)::int AS n FROM "${h.tables.users}_v"`);

    const expectedUsers = [
      ...Array.from({ length: n }, (_, i) => i)
        .filter((i) => i !== removed)
        .map((i) => ({ id: userId(i), title: `t${i}` })),
      { id: '005OTHER00000001AA', title: 'other' },
    ];
    expectedUsers.sort((a, b) => a.id.localeCompare(b.id));
    expect(await h.rows('users', 'id, title')).toEqual(expectedUsers);
    expect(view[0].n).toBe(expectedUsers.length);
    // Every login event stays, the ones retention removed from the topic included, except the
    // removed user's (onUserRemoved: delete-logins, the default).
    const expectedLogins = logins
      .filter((l) => l.value.userId !== userId(removed))
      .map((l) => l.key)
      .sort();
    expect((await h.rows('logins', 'id')).map((r) => r.id)).toEqual(expectedLogins);
    const { rows: leftovers } = await h.pool.query('SELECT tablename FROM pg_tables WHERE tablename LIKE $1', [
      `${h.tables.users}__%`,
    ]);
    expect(leftovers).toEqual([]);
  });

  it('a user whose latest record cannot apply keeps row and login events: a bad record never deletes', async () => {
    const rnd = mulberry32(seed + 3);
    const n = 3 + Math.floor(rnd() * 8);
    await h.produce(
      h.topics.users,
      Array.from({ length: n }, (_, i) => ({ key: userId(i), value: user(userId(i), { title: `t${i}` }) })),
    );
    const logins = Array.from({ length: 2 * n }, (_, i) => ({
      key: loginId(i),
      value: login(loginId(i), userId(i % n), 1_700_000_000_000 + i),
    }));
    await h.produce(h.topics.logins, logins);
    const sink = h.sink();
    await sink.start();
    await h.caughtUp();
    await sink.stop();
    // A user in the live table whose only record left in the topic is not Avro (compaction removed
    // the good ones): the replay dead-letters it, so the rebuilt table lacks the user.
    const bad = userId(n + Math.floor(rnd() * 5));
    const t = `"${h.tables.users}"`;
    await h.pool.query(`CREATE TEMP TABLE bad_user AS SELECT * FROM ${t} WHERE id = $1`, [userId(0)]);
    await h.pool.query('UPDATE bad_user SET id = $1', [bad]);
    await h.pool.query(`INSERT INTO ${t} SELECT * FROM bad_user`);
    await h.produce(h.topics.users, [{ key: bad, value: Buffer.from('not Avro at all') }]);
    await replay({ ...h.deps() });
    expect((await h.rows('users', 'id')).map((r) => r.id)).toEqual(
      [...Array.from({ length: n }, (_, i) => userId(i)), bad].sort(),
    );
    expect((await h.rows('logins', 'id')).map((r) => r.id)).toEqual(logins.map((l) => l.key).sort());
  });

  it('rebuilds one stream alone: --only logins leaves the users table as it is', async () => {
    await h.produce(
      h.topics.users,
      [1, 2, 3].map((i) => ({ key: userId(i), value: user(userId(i)) })),
    );
    await h.produce(
      h.topics.logins,
      [1, 2].map((i) => ({ key: loginId(i), value: login(loginId(i), userId(i), 1_700_000_000_000 + i) })),
    );
    const sink = h.sink();
    await sink.start();
    await h.caughtUp();
    await sink.stop();
    await h.pool.query(`UPDATE "${h.tables.users}" SET title = 'hand edit'`);
    await h.pool.query(`DELETE FROM "${h.tables.logins}"`);
    await replay({ ...h.deps(), only: ['logins'] });
    expect((await h.rows('users', 'title')).map((r) => r.title)).toEqual(['hand edit', 'hand edit', 'hand edit']);
    expect((await h.rows('logins', 'id')).map((r) => r.id)).toEqual([loginId(1), loginId(2)]);
  });
});

describe("PostgreSQL sink: a removed user's login events (sink.onUserRemoved)", () => {
  let h: SinkHarness;
  beforeEach(async () => (h = await new SinkHarness().setUp()));
  afterEach(() => h.close());

  it.each([['delete-logins' as const], ['keep' as const]])('%s', async (rule) => {
    const rnd = mulberry32(seed + 7);
    const n = 3 + Math.floor(rnd() * 10);
    await h.produce(
      h.topics.users,
      Array.from({ length: n }, (_, i) => ({ key: userId(i), value: user(userId(i)) })),
    );
    const logins = Array.from({ length: 3 * n }, (_, i) => ({
      key: loginId(i),
      value: login(loginId(i), userId(i % n), 1_700_000_000_000 + i),
    }));
    await h.produce(h.topics.logins, logins);
    const sink = h.sink({ onUserRemoved: rule });
    await sink.start();
    await h.caughtUp();
    const gone = Math.floor(rnd() * n);
    await h.produce(h.topics.users, [{ key: userId(gone), value: null }]);
    await h.caughtUp();
    expect((await h.rows('users', 'id')).map((r) => r.id)).not.toContain(userId(gone));
    const expected = logins
      .filter((l) => rule === 'keep' || l.value.userId !== userId(gone))
      .map((l) => l.key)
      .sort();
    expect((await h.rows('logins', 'id')).map((r) => r.id)).toEqual(expected);
  });
});
