import type { IHeaders, Producer, ProducerRecord } from 'kafkajs';
import { RecordError } from '../../../kernel/errors';
import { createDeadLetter } from '../../../sinks/engine/dead-letter';
import { useOwnRecordEncoding } from '../../../kafka/produce-encoding';

/**
 * Kafka's record format allows a header whose value is null (length -1; Java's RecordHeader(key, null)),
 * and kafkajs's consumer hands such a header on as `null` (protocol/recordBatch/header/v0/decoder.js,
 * readVarIntBytes). The sink copies a source record's headers into its dead letter
 * (sinks/engine/dead-letter.ts deadLetterHeaders), so the dead-letter producer's request must encode
 * with a null header value: here it is built and encoded as kafkajs's broker does at send time
 * (requests.Produce.protocol({ version }), versions 3-7), with the connector's record encoding installed.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const produce = require('kafkajs/src/protocol/requests/produce') as {
  protocol: (p: { version: number }) => (a: unknown) => { request: { encode(): Promise<{ buffer: Buffer }> } };
};

test('a dead letter of a source record with a null-valued header encodes (every record-batch version)', async () => {
  useOwnRecordEncoding();
  const sent: ProducerRecord[] = [];
  const producer = { send: async (r: ProducerRecord) => void sent.push(r) } as unknown as Producer;
  const dl = createDeadLetter(producer, 'dlq', () => new Date(0));
  // what kafkajs's consumer gives for a header written with a null value
  const headers = { trace: null, tenant: Buffer.from('a') } as unknown as IHeaders;
  await dl.send([
    {
      source: { topic: 'src', partition: 0, offset: '5', key: Buffer.from('k'), value: Buffer.from('v'), headers },
      error: new RecordError('cannot decode', { code: 'RECORD_UNDECODABLE' }),
    },
  ]);
  const record = sent[0] as ProducerRecord;
  for (let version = 3; version <= 7; version++) {
    const { request } = produce.protocol({ version })({
      acks: -1,
      timeout: 30_000,
      topicData: [{ topic: record.topic, partitions: [{ partition: 0, messages: record.messages }] }],
    });
    const outcome = await request.encode().then(
      (e) => (e.buffer.length > 0 ? `v${version}: encoded` : `v${version}: empty`),
      (err: Error) => `v${version}: ${err.constructor.name}: ${err.message}`,
    );
    expect(outcome).toBe(`v${version}: encoded`);
  }
});
