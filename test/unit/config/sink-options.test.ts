import { ConfigError, parseConnectorConfig, toSinkConfig } from '../../../pipeline/config';
import { resolveSinkConfig } from '../../../sinks';
import { goodConfig, sources } from './helpers';

/** The sink's own options (issue 13): defaults, conversion to the sink config, and refusals naming the field. */
describe('sink options', () => {
  it('default to delete-logins, synchronous commits, 60 s statements, 60 failures, 120 s stall, the live path', () => {
    // live fetches of 256 KiB or 500 ms; a live load ended after 5 s idle, or 30 min after its first write
    const sink = resolveSinkConfig(toSinkConfig(parseConnectorConfig(goodConfig(), sources(), 'test.yaml')));
    expect(sink.onUserRemoved).toBe('delete-logins');
    expect(sink.tuning).toMatchObject({
      synchronousCommit: true,
      statementTimeoutMs: 60_000,
      breakerFailures: 60,
      stallAfterMs: 120_000,
      fetchMinBytes: 256 * 1024,
      fetchMaxWaitMs: 500,
      liveLoadIdleMs: 5000,
      liveLoadMaxMs: 1_800_000,
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
        fetchMinBytes: 65_536,
        fetchMaxWaitMs: 250,
        liveLoadIdleMs: 2000,
        liveLoadMaxMs: 60_000,
      },
    });
    const sink = resolveSinkConfig(toSinkConfig(parseConnectorConfig(raw, sources(), 'test.yaml')));
    expect(sink.onUserRemoved).toBe('keep');
    expect(sink.tuning).toMatchObject({
      synchronousCommit: false,
      statementTimeoutMs: 5000,
      breakerFailures: 3,
      stallAfterMs: 60_000,
      fetchMinBytes: 65_536,
      fetchMaxWaitMs: 250,
      liveLoadIdleMs: 2000,
      liveLoadMaxMs: 60_000,
    });
  });

  it('refuse a bad value, naming the field and what is allowed', () => {
    let err: unknown;
    try {
      parseConnectorConfig(
        goodConfig({
          sink: { onUserRemoved: 'drop', breakerFailures: 0, fetchMinBytes: 1024 * 1024, fetchMaxWaitMs: -1 },
        }),
        sources(),
        'test.yaml',
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/sink\.onUserRemoved.*delete-logins, keep/s);
    expect((err as Error).message).toMatch(/sink\.breakerFailures/);
    expect((err as Error).message).toMatch(/sink\.fetchMinBytes.*262144/s);
    expect((err as Error).message).toMatch(/sink\.fetchMaxWaitMs/);
    expect(() =>
      resolveSinkConfig({
        ...toSinkConfig(parseConnectorConfig(goodConfig(), sources(), 'test.yaml')),
        onUserRemoved: 'x' as never,
      }),
    ).toThrow(/onUserRemoved: give delete-logins/);
  });
});
