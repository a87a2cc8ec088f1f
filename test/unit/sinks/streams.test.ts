import { LOGINS, STREAMS, USERS } from '../../../schemas/streams';
import { schemaFilePath } from '../../../schemas/files';
import { sinkStreams, userRemovalCascades } from '../../../sinks/streams';

describe('sinkStreams: the declared streams as the sink receives them', () => {
  it('takes topic, table, write mode and indexes from the declarations by default', () => {
    const streams = sinkStreams(STREAMS);
    const users = streams.find((s) => s.name === 'users')!;
    expect(users).toMatchObject({
      topic: USERS.topic.defaultName,
      table: { schema: 'public', name: USERS.sink.table },
      write: 'upsert',
      indexes: USERS.sink.indexes,
    });
    expect((users.baseSchema as { name: string }).name).toBe('User');
    expect(streams.find((s) => s.name === 'logins')).toMatchObject({
      write: 'append',
      table: { name: LOGINS.sink.table },
    });
  });

  it('applies config overrides by stream name, and the onUserRemoved cascade', () => {
    const [logins, users] = sinkStreams([LOGINS, USERS], {
      topics: { users: 'my.users' },
      tables: { logins: { schema: 'crm', name: 'events' } },
      schema: 'crm',
      cascades: userRemovalCascades('delete-logins'),
    });
    expect(users).toMatchObject({
      topic: 'my.users',
      table: { schema: 'crm', name: USERS.sink.table },
      deletesCascadeTo: [{ stream: 'logins', field: 'userId' }],
    });
    expect(logins).toMatchObject({
      topic: LOGINS.topic.defaultName,
      table: { schema: 'crm', name: 'events' },
      deletesCascadeTo: [],
    });
    expect(sinkStreams([USERS, LOGINS], { cascades: userRemovalCascades('keep') })[0].deletesCascadeTo).toEqual([]);
    // A cascade to a stream not sunk here deletes nothing.
    expect(sinkStreams([USERS], { cascades: userRemovalCascades('delete-logins') })[0].deletesCascadeTo).toEqual([]);
  });

  it('resolves view files relative to schemas/', () => {
    const declared = { ...USERS, sink: { ...USERS.sink, views: ['streams/views/x.sql', '/abs/y.sql'] } };
    expect(sinkStreams([declared])[0].views).toEqual([schemaFilePath('streams/views/x.sql'), '/abs/y.sql']);
  });

  it('refuses two streams on one topic or one table, naming the setting', () => {
    expect(() => sinkStreams([USERS, LOGINS], { topics: { users: 't', logins: 't' } })).toThrow(
      /sink config: topics: "t" is given to two streams/,
    );
    expect(() =>
      sinkStreams([USERS, LOGINS], { tables: { logins: { schema: 'public', name: USERS.sink.table } } }),
    ).toThrow(/sink config: tables:/);
  });
});
