import { Kafka, logLevel } from 'kafkajs';
import { kafkaBatch, readCluster } from '../../../kafka/read-cluster';

/** The kafkajs internals a read without a consumer group uses: there in the pinned version, loud if not. */
describe('readCluster', () => {
  it("builds a cluster from the Kafka instance's own factory (nothing connected)", () => {
    const kafka = new Kafka({ clientId: 'read-cluster-test', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    const cluster = readCluster(kafka);
    expect(typeof cluster.fetchTopicsOffset).toBe('function');
    expect((cluster as unknown as { isolationLevel: number }).isolationLevel).toBe(1); // READ_COMMITTED
    expect(typeof kafkaBatch()).toBe('function');
  });

  it('fails with KAFKAJS_INTERNALS_CHANGED, never falling back, when the factory is not there', () => {
    expect(() => readCluster({} as Kafka)).toThrow(expect.objectContaining({ code: 'KAFKAJS_INTERNALS_CHANGED' }));
    const kafka = new Kafka({ clientId: 'read-cluster-test', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster')!;
    (kafka as unknown as Record<symbol, unknown>)[symbol] = () => ({ connect() {} });
    expect(() => readCluster(kafka)).toThrow(/lacks Cluster methods disconnect, addTargetTopic/);
  });
});
