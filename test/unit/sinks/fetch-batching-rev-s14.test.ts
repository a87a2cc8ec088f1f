import type { ConnectorError } from '../../../kernel/errors';
import { resolveSinkConfig, type PostgresSinkConfig } from '../../../sinks';

/**
 * Review of session 14's fetch batching (sinks/postgres/config.ts, sink.ts DEFAULT_TUNING): a sink
 * configuration an operator already runs must keep starting, and a setting that breaks the group
 * must be refused by name.
 */
const base: PostgresSinkConfig = {
  kafka: { brokers: ['127.0.0.1:9092'], clientId: 'sink-test' },
  registry: { url: 'http://127.0.0.1:8081' },
};
const problems = (tuning: PostgresSinkConfig['tuning']): string | undefined => {
  try {
    resolveSinkConfig({ ...base, tuning });
    return undefined;
  } catch (e) {
    return (e as ConnectorError).message;
  }
};

describe('review s14: fetch batching config', () => {
  // FINDING (medium): an upgrade refuses a configuration valid before session 14. The cross check
  // (config.ts:169) compares the DEFAULT fetchMinBytes (256 KiB, sink.ts:82) with a user's smaller
  // maxBytesPerPartition: `tuning: { maxBytesPerPartition: 65536 }` (a knob documented since s4 to
  // bound memory) now stops the sink at start with "tuning.fetchMinBytes: give at most ...", an
  // option the operator never set. The default should follow maxBytesPerPartition (min of both).
  // Programmatic callers (createPostgresSink, sink.ts:143) get no check at all: the same pair
  // silently holds every fetch of a one-partition backlog for fetchMaxWaitMs (the measured trap).
  it('a config valid before session 14 (a smaller maxBytesPerPartition) still starts', () => {
    expect(problems({ maxBytesPerPartition: 65536 })).toBeUndefined();
  });

  // FINDING (low): fetchMaxWaitMs is bounded by nothing. kafkajs heartbeats between fetches
  // (runner.js), so a wait at or above sessionTimeoutMs lets the session expire while a quiet
  // topic's fetch waits: the member is evicted and the group rebalances at every idle fetch, and
  // stop() waits as long. The config should refuse it, naming the field and the fix.
  it('a fetchMaxWaitMs not below sessionTimeoutMs is refused by name', () => {
    expect(problems({ fetchMaxWaitMs: 60_000, sessionTimeoutMs: 30_000 })).toMatch(/tuning\.fetchMaxWaitMs/);
  });
});
