import { ConfigError, parseConnectorConfig, toSinkConfig } from '../../../pipeline/config';
import { resolveSinkConfig } from '../../../sinks';
import { goodConfig, sources } from './helpers';

/** The sink's own options (issue 13): defaults, conversion to the sink config, and refusals naming the field. */
describe('sink options', () => {
  it('default to delete-logins, asynchronous commits, 60 s statements, 60 failures, 120 s stall', () => {
    const sink = resolveSinkConfig(toSinkConfig(parseConnectorConfig(goodConfig(), sources(), 'test.yaml')));
    expect(sink.onUserRemoved).toBe('delete-logins');
    expect(sink.tuning).toMatchObject({
      synchronousCommit: true,
      statementTimeoutMs: 60_000,
      breakerFailures: 60,
      stallAfterMs: 120_000,
    });
  });

  it('are carried to the sink', () => {
    const raw = goodConfig({
      sink: {
        onUserRemoved: 'keep',
        synchronousCommit: false,
        statementTimeoutMs: 5000,
        breakerFailures: 3,
        stallAfterMs: 60_000,
      },
    });
    const sink = resolveSinkConfig(toSinkConfig(parseConnectorConfig(raw, sources(), 'test.yaml')));
    expect(sink.onUserRemoved).toBe('keep');
    expect(sink.tuning).toMatchObject({
      synchronousCommit: false,
      statementTimeoutMs: 5000,
      breakerFailures: 3,
      stallAfterMs: 60_000,
    });
  });

  it('refuse a bad value, naming the field and what is allowed', () => {
    let err: unknown;
    try {
      parseConnectorConfig(goodConfig({ sink: { onUserRemoved: 'drop', breakerFailures: 0 } }), sources(), 'test.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/sink\.onUserRemoved.*delete-logins, keep/s);
    expect((err as Error).message).toMatch(/sink\.breakerFailures/);
    expect(() =>
      resolveSinkConfig({
        ...toSinkConfig(parseConnectorConfig(goodConfig(), sources(), 'test.yaml')),
        onUserRemoved: 'x' as never,
      }),
    ).toThrow(/onUserRemoved: give delete-logins/);
  });
});
