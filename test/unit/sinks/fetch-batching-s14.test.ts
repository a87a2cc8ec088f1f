import type { Kafka } from 'kafkajs';
import type { ConnectorError } from '../../../kernel/errors';
import { silentLogger } from '../../../kernel/logger';
import { resolveSinkConfig, type PostgresSinkConfig } from '../../../sinks';
import { startSinkConsumer } from '../../../sinks/engine/consumer';
import type { BatchProcessor } from '../../../sinks/engine/processor';
import { DEFAULT_TUNING } from '../../../sinks/postgres/sink';

/**
 * Fetch batching while live (session 14, docs/performance-s14-live.md): the sink's consumer asks the
 * broker to wait for `fetchMinBytes` or `fetchMaxWaitMs`, whichever comes first, instead of kafkajs's
 * minBytes 1 (a fetch returned as soon as one record was there: a live first run went in ~300-row
 * transactions, each with its offset row, its COPY and its commit).
 */
describe('the sink consumer: fetch batching while live', () => {
  it('passes fetchMinBytes and fetchMaxWaitMs to the kafkajs consumer', async () => {
    const seen: Record<string, unknown>[] = [];
    const consumer = {
      events: { CRASH: 'crash', GROUP_JOIN: 'join' },
      on: () => undefined,
      connect: async () => undefined,
      subscribe: async () => undefined,
      run: async () => undefined,
      disconnect: async () => undefined,
    };
    const kafka = {
      consumer: (config: Record<string, unknown>) => {
        seen.push(config);
        return consumer;
      },
    } as unknown as Kafka;
    const c = await startSinkConsumer(
      kafka,
      {} as BatchProcessor,
      {
        groupId: 'g',
        topics: ['t'],
        fromBeginning: true,
        maxBytesPerPartition: 256 * 1024,
        partitionsConsumedConcurrently: 2,
        sessionTimeoutMs: 30_000,
        fetchMinBytes: 123_456,
        fetchMaxWaitMs: 321,
      },
      { logger: silentLogger },
    );
    await c.stop();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ minBytes: 123_456, maxWaitTimeInMs: 321 });
  });

  it('defaults: a fetch waits for more than one record, at most a second', () => {
    expect(DEFAULT_TUNING.fetchMinBytes).toBeGreaterThan(1);
    // Not above what one partition's fetch may return.
    expect(DEFAULT_TUNING.fetchMinBytes).toBeLessThanOrEqual(DEFAULT_TUNING.maxBytesPerPartition);
    expect(DEFAULT_TUNING.fetchMaxWaitMs).toBeGreaterThan(0);
    expect(DEFAULT_TUNING.fetchMaxWaitMs).toBeLessThanOrEqual(1000);
  });

  it('config: each option checked, named with its fix', () => {
    const base: PostgresSinkConfig = {
      kafka: { brokers: ['127.0.0.1:9092'], clientId: 'sink-test' },
      registry: { url: 'http://127.0.0.1:8081' },
    };
    let err: ConnectorError | undefined;
    try {
      resolveSinkConfig({ ...base, tuning: { fetchMinBytes: 0, fetchMaxWaitMs: 1.5 } });
    } catch (e) {
      err = e as ConnectorError;
    }
    expect(err?.code).toBe('CONFIG_INVALID');
    expect(err?.message).toMatch(/tuning\.fetchMinBytes: give a whole number/);
    expect(err?.message).toMatch(/tuning\.fetchMaxWaitMs: give a whole number/);
    // Above one partition's fetch: a one-partition backlog would wait fetchMaxWaitMs at every fetch.
    let big: ConnectorError | undefined;
    try {
      resolveSinkConfig({ ...base, tuning: { fetchMinBytes: 1 << 20, maxBytesPerPartition: 256 * 1024 } });
    } catch (e) {
      big = e as ConnectorError;
    }
    expect(big?.message).toMatch(/tuning\.fetchMinBytes: give at most tuning\.maxBytesPerPartition \(262144\)/);
    const ok = resolveSinkConfig({ ...base, tuning: { fetchMinBytes: 1, fetchMaxWaitMs: 100 } });
    expect(ok.tuning).toMatchObject({ fetchMinBytes: 1, fetchMaxWaitMs: 100 });
  });
});
