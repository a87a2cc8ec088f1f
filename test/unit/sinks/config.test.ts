import { ConnectorError } from '../../../kernel/errors';
import { DEFAULT_TOPICS } from '../../../schemas/topics';
import { resolveSinkConfig, type PostgresSinkConfig } from '../../../sinks';

/** The sink's env/file-free options (sinks/postgres/config.ts): every mistake is reported at once (issue 17). */
describe('resolveSinkConfig', () => {
  const base = (): PostgresSinkConfig => ({
    kafka: { brokers: ['127.0.0.1:9092'], clientId: 'sink-test' },
    registry: { url: 'http://127.0.0.1:8081' },
  });

  function failure(raw: PostgresSinkConfig): ConnectorError {
    try {
      resolveSinkConfig(raw);
    } catch (err) {
      return err as ConnectorError;
    }
    throw new Error('resolveSinkConfig accepted a bad config');
  }

  it('reports three independent mistakes together, each with its field and fix, never the password', () => {
    const err = failure({
      ...base(),
      databaseUrl: 'mysql://me:hunter2-secret@db/x',
      poolSize: 0,
      onUserRemoved: 'drop' as never,
    });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(/databaseUrl: use postgres:\/\//);
    expect(err.message).toMatch(/poolSize: give a whole number of connections, at least 1/);
    expect(err.message).toMatch(/onUserRemoved: give delete-logins/);
    expect(err.message).not.toContain('hunter2-secret');
  });

  it('reports a bad topic together with the other mistakes, and still the cross-field checks', () => {
    const err = failure({ ...base(), topics: { users: 'a', logins: 'a' }, tuning: { chunkRows: -1 } });
    expect(err.message).toMatch(/three different topics/);
    expect(err.message).toMatch(/tuning\.chunkRows/);
  });

  it('fills in the defaults once', () => {
    expect(resolveSinkConfig(base())).toMatchObject({
      groupId: 'neurons-postgres-sink',
      poolSize: 4,
      onUserRemoved: 'delete-logins',
      topics: { users: DEFAULT_TOPICS.users, logins: DEFAULT_TOPICS.logins },
      tables: { users: { schema: 'public', name: 'neurons_users' } },
      database: { embedded: {} },
    });
  });
});
