import avro from 'avsc';
import { frame } from '../../../schemas/wire';
import { loadConnectorSchemas, type AvroSchemaJson } from '../../../schemas/avro';
import { DEAD_LETTER_HEADERS } from '../../../sinks';
import { SinkHarness, type Produce } from '../../support/sink-harness';
import { login, loginId, user, userId } from '../../support/sink-fixtures';
import { waitFor } from '../../support/wait';

/**
 * The shared suite of sink fixtures (in the manner of Meltano's target tests): each fixture is a
 * stream of batches. The first batch is produced before the sink starts, so it reaches the sink
 * as one Kafka batch (one transaction); each later batch is produced after the sink has
 * committed the previous one. Then the tables and the dead-letter topic are compared with what
 * a reader of the latest value per key would expect.
 */
interface Step {
  users?: Produce[];
  logins?: Produce[];
  /** Runs before the step's records are produced (e.g. registers a newer schema). */
  before?: (h: SinkHarness) => Promise<Produce[] | void>;
}

interface Fixture {
  name: string;
  steps: (h: SinkHarness) => Step[];
  check: (h: SinkHarness) => Promise<void>;
}

const u = (n: number) => userId(n);
const titles = async (h: SinkHarness) =>
  Object.fromEntries((await h.rows('users', 'id, title')).map((r) => [r.id, r.title]));

const V2_FIELDS = [
  { name: 'costCenter', type: ['null', 'string'], default: null, doc: 'Cost center (added in v2).' },
  {
    name: 'hiredAt',
    type: ['null', { type: 'long', logicalType: 'timestamp-millis' }],
    default: null,
    doc: 'Hire date (added in v2).',
  },
];
const userV2 = () => {
  const v1 = loadConnectorSchemas().userValue as { fields: unknown[] };
  return { ...v1, fields: [...v1.fields, ...V2_FIELDS] };
};

const fixtures: Fixture[] = [
  {
    name: 'updates to the same key within one batch: the last one wins',
    steps: () => [{ users: [1, 2, 3].map((v) => ({ key: u(1), value: user(u(1), { title: `v${v}` }) })) }],
    check: async (h) => {
      expect(await h.rows('users', 'id, title, _kafka_offset')).toEqual([
        { id: u(1), title: 'v3', _kafka_offset: '2' },
      ]);
    },
  },
  {
    name: 'updates to the same key across batches: the last one wins',
    steps: () => [
      { users: [{ key: u(1), value: user(u(1), { title: 'first' }) }] },
      { users: [{ key: u(1), value: user(u(1), { title: 'second' }) }] },
    ],
    check: async (h) => {
      expect(await titles(h)).toEqual({ [u(1)]: 'second' });
    },
  },
  {
    name: 'duplicates: the same record several times is one row',
    steps: () => [
      { users: [u(1), u(1), u(2), u(1), u(2)].map((id) => ({ key: id, value: user(id) })) },
      { users: [{ key: u(2), value: user(u(2)) }] },
    ],
    check: async (h) => {
      const rows = await h.rows('users', 'id, email');
      expect(rows).toEqual([
        { id: u(1), email: user(u(1)).email },
        { id: u(2), email: user(u(2)).email },
      ]);
    },
  },
  {
    name: 'a tombstone, then the same user created again (in one batch and across batches)',
    steps: () => [
      {
        users: [
          { key: u(1), value: user(u(1), { title: 'old' }) },
          { key: u(1), value: null },
          { key: u(1), value: user(u(1), { title: 'back' }) },
          { key: u(2), value: user(u(2), { title: 'two' }) },
        ],
      },
      { users: [{ key: u(2), value: null }] },
      {
        users: [
          { key: u(2), value: user(u(2), { title: 'two again' }) },
          { key: u(3), value: user(u(3)) },
          { key: u(3), value: null },
        ],
      },
    ],
    check: async (h) => {
      expect(await titles(h)).toEqual({ [u(1)]: 'back', [u(2)]: 'two again' });
    },
  },
  {
    name: 'a tombstone, then the user back in the same batch: their login events go, even when the value is refused',
    steps: () => [
      {
        users: [1, 2, 3].map((n) => ({ key: u(n), value: user(u(n), { title: `t${n}` }) })),
        logins: [1, 2, 3, 4].map((n) => ({
          key: loginId(n),
          value: login(loginId(n), u(n === 4 ? 3 : n > 2 ? 2 : 1), 1_700_000_000_000 + n),
        })),
      },
      {
        // One step, one batch: record by record, each tombstone deletes the user's login events
        // before the value comes back (and u(2)'s value cannot be stored: the tombstone still holds).
        users: [
          { key: u(1), value: null },
          { key: u(1), value: user(u(1), { title: 'back' }) },
          { key: u(2), value: null },
          { key: u(2), value: user(u(2), { title: 'nul \u0000 byte' }) },
        ],
      },
    ],
    check: async (h) => {
      expect(await titles(h)).toEqual({ [u(1)]: 'back', [u(3)]: 't3' });
      expect((await h.rows('logins', 'id')).map((r) => r.id)).toEqual([loginId(4)]);
      const dead = await h.deadLetters();
      expect(
        dead.map((d) => [d.headers[DEAD_LETTER_HEADERS.sourceOffset], d.headers[DEAD_LETTER_HEADERS.errorCode]]),
      ).toEqual([['6', 'DB_DATA_INVALID']]);
    },
  },
  {
    name: 'a tombstone for a key that was never seen changes nothing',
    steps: () => [
      {
        users: [
          { key: u(9), value: null },
          { key: u(1), value: user(u(1)) },
        ],
      },
      { users: [{ key: u(8), value: null }] },
    ],
    check: async (h) => {
      expect(Object.keys(await titles(h))).toEqual([u(1)]);
      expect(await h.deadLetters()).toEqual([]);
    },
  },
  {
    name: 'login events duplicated in a batch and across batches are stored once',
    steps: () => [
      {
        logins: [1, 2, 1, 3, 2].map((n) => ({
          key: loginId(n),
          value: login(loginId(n), u(1), 1_700_000_000_000 + n),
        })),
      },
      {
        logins: [
          { key: loginId(1), value: login(loginId(1), u(1), 1_700_000_000_001, { status: 'changed?' }) },
          { key: loginId(4), value: login(loginId(4), u(2), 1_700_000_000_004) },
        ],
      },
    ],
    check: async (h) => {
      const rows = await h.rows('logins', 'id, user_id, login_time, status');
      expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4].map(loginId));
      expect(rows[0]).toEqual({
        id: loginId(1),
        user_id: u(1),
        login_time: new Date(1_700_000_000_001),
        status: 'Success',
      });
    },
  },
  {
    name: 'a schema version change mid-stream: new columns appear, older rows and older writers get null',
    steps: () => [
      { users: [{ key: u(1), value: user(u(1)) }] },
      {
        before: async (h) => {
          const v2 = await h.registerValueSchema(h.topics.users, userV2() as AvroSchemaJson);
          return [
            { key: u(2), value: user(u(2), { costCenter: 'CC-7', hiredAt: 1_500_000_000_000 }), schema: v2 },
            { key: u(3), value: user(u(3)) }, // an older writer after the newer one, same batch
            { key: u(4), value: user(u(4), { costCenter: 'CC-9' }), schema: v2 },
          ];
        },
      },
      { users: [{ key: u(4), value: user(u(4), { title: 'rewritten by an old writer' }) }] },
    ],
    check: async (h) => {
      const rows = await h.rows('users', 'id, cost_center, hired_at');
      expect(rows).toEqual([
        { id: u(1), cost_center: null, hired_at: null },
        { id: u(2), cost_center: 'CC-7', hired_at: new Date(1_500_000_000_000) },
        { id: u(3), cost_center: null, hired_at: null },
        { id: u(4), cost_center: null, hired_at: null },
      ]);
      const { rows: types } = await h.pool.query(
        'SELECT column_name, data_type, is_nullable FROM information_schema.columns ' +
          "WHERE table_name = $1 AND column_name IN ('cost_center', 'hired_at') ORDER BY 1",
        [h.tables.users],
      );
      expect(types).toEqual([
        { column_name: 'cost_center', data_type: 'text', is_nullable: 'YES' },
        { column_name: 'hired_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
      ]);
    },
  },
  {
    name: 'undecodable and unwritable records go to the dead-letter topic while the rest land',
    steps: (h) => [
      {
        users: [
          { key: u(1), value: user(u(1)) },
          { key: u(2), value: Buffer.from('not Avro at all') },
          // (an unknown schema id is registry trouble, not a bad record: registry.test.ts)
          { key: u(3), value: Buffer.from([7, 0, 0, 0, 1, 2, 65]) }, // magic byte 7, not 0
          { key: u(4), value: frame(h.schemaIds().users, Buffer.from([2])) },
          { key: u(5), value: user(u(5), { title: 'nul \u0000 byte' }) },
          { key: u(6), value: user(u(6), { createdAt: -4e15 }) },
          { key: '', value: user('') },
          { key: u(7), value: user(u(8)) },
          { key: Buffer.from('plain key'), value: user(u(10)) },
          { key: u(9), value: user(u(9)) },
          // a login event on the users topic: a record type the users table does not hold
          {
            key: u(12),
            value: login(u(12), u(1), 1_700_000_000_000),
            schema: { id: h.schemaIds().logins, type: avro.Type.forSchema(loadConnectorSchemas().loginEventValue) },
          },
        ],
        logins: [
          { key: loginId(1), value: null },
          { key: loginId(2), value: login(loginId(2), u(1), 1_700_000_000_000) },
        ],
      },
      { users: [{ key: u(11), value: user(u(11)) }] },
    ],
    check: async (h) => {
      expect(Object.keys(await titles(h))).toEqual([u(1), u(9), u(11)]);
      expect((await h.rows('logins', 'id')).map((r) => r.id)).toEqual([loginId(2)]);
      const dead = await h.deadLetters();
      const seen = dead.map((d) => [
        d.headers[DEAD_LETTER_HEADERS.sourceTopic] === h.topics.users ? 'users' : 'logins',
        d.headers[DEAD_LETTER_HEADERS.sourceOffset],
        d.headers[DEAD_LETTER_HEADERS.errorCode],
        d.headers[DEAD_LETTER_HEADERS.sqlstate],
      ]);
      expect(seen.sort()).toEqual(
        [
          ['logins', '0', 'UNEXPECTED_TOMBSTONE', undefined],
          ['users', '1', 'WIRE_FORMAT_INVALID', undefined],
          ['users', '2', 'WIRE_FORMAT_INVALID', undefined],
          ['users', '3', 'RECORD_UNDECODABLE', undefined],
          ['users', '4', 'DB_DATA_INVALID', expect.stringMatching(/^22/)],
          ['users', '5', 'DB_DATA_INVALID', '22008'],
          ['users', '6', 'DB_CONSTRAINT_VIOLATION', '23514'],
          ['users', '7', 'KEY_MISMATCH', undefined],
          ['users', '8', 'WIRE_FORMAT_INVALID', undefined],
          ['users', '10', 'SCHEMA_UNSUPPORTED', undefined],
        ].sort(),
      );
      for (const d of dead) {
        expect(d.headers[DEAD_LETTER_HEADERS.sourcePartition]).toBe('0');
        expect(d.headers[DEAD_LETTER_HEADERS.reason].length).toBeGreaterThan(10);
        expect(d.headers['neurons-run-id']).toBe('run-1'); // the record's own headers are kept
      }
      const notAvro = dead.find(
        (d) =>
          d.headers[DEAD_LETTER_HEADERS.sourceOffset] === '1' &&
          d.headers[DEAD_LETTER_HEADERS.sourceTopic] === h.topics.users,
      )!;
      expect(notAvro.value).toEqual(Buffer.from('not Avro at all'));
      expect(notAvro.key).toEqual(h.encodeKey(u(2)));
    },
  },
  {
    name: 'tables: typed columns, queryable preferences, indexes for the usual lookups',
    steps: () => [
      {
        users: [
          { key: u(1), value: user(u(1), { managerId: u(2), latitude: Number.NaN }) },
          { key: u(2), value: user(u(2), { preferences: { HideS1BrowserUI: false } }) },
        ],
      },
      { logins: [{ key: loginId(1), value: login(loginId(1), u(1), 1_700_000_000_000) }] },
    ],
    check: async (h) => {
      const [row] = await h.rows(
        'users',
        'id, is_active, status, created_at, latitude, preferences, permissions, manager_id',
      );
      expect(row).toEqual({
        id: u(1),
        is_active: true,
        status: 'active',
        created_at: new Date(1_600_000_000_123),
        latitude: Number.NaN,
        preferences: { HideS1BrowserUI: true, ShowTitleToExternalUsers: false },
        permissions: { MarketingUser: false },
        manager_id: u(2),
      });
      const { rows: hidden } = await h.pool.query(
        `SELECT id FROM "${h.tables.users}" WHERE (preferences->>'HideS1BrowserUI')::boolean`,
      );
      expect(hidden).toEqual([{ id: u(1) }]);
      const { rows: reports } = await h.pool.query(`SELECT id FROM "${h.tables.users}" WHERE manager_id = $1`, [u(2)]);
      expect(reports).toEqual([{ id: u(1) }]);
      const expected = [
        'logins btree (id)',
        'logins btree (user_id, login_time)',
        'users btree (email)',
        'users btree (id)',
        'users btree (manager_id)',
        'users btree (username)',
      ].sort();
      const indexes = async () =>
        (
          await h.pool.query<{ tablename: string; def: string }>(
            "SELECT tablename, regexp_replace(indexdef, '^.* USING ', '') AS def FROM pg_indexes " +
              'WHERE tablename IN ($1, $2) ORDER BY 1, 2',
            [h.tables.users, h.tables.logins],
          )
        ).rows
          .map((i) => `${i.tablename === h.tables.users ? 'users' : 'logins'} ${i.def}`)
          .sort();
      // The login events' topic was empty when the sink started: a live bulk load, whose indexes are
      // built once nothing came for tuning.liveLoadIdleMs (sinks/postgres/bulk.ts, session 14).
      await waitFor('the declared indexes', 30_000, async () => (await indexes()).length === expected.length);
      expect(await indexes()).toEqual(expected);
    },
  },
];

describe('PostgreSQL sink: fixture streams', () => {
  for (const fixture of fixtures) {
    it(fixture.name, async () => {
      const h = await new SinkHarness().setUp();
      try {
        const steps = fixture.steps(h);
        const produceStep = async (step: Step) => {
          const extra = (await step.before?.(h)) ?? [];
          if (step.users?.length || extra.length) await h.produce(h.topics.users, [...(step.users ?? []), ...extra]);
          if (step.logins?.length) await h.produce(h.topics.logins, step.logins);
        };
        await produceStep(steps[0]);
        const sink = h.sink();
        await sink.start();
        await h.caughtUp();
        for (const step of steps.slice(1)) {
          await produceStep(step);
          await h.caughtUp();
        }
        await fixture.check(h);
        await sink.stop();
      } finally {
        await h.close();
      }
    });
  }
});
