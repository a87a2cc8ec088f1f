import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { createTopicsReady } from '../../../kafka/topics';
import { services, uniqueName } from '../../support/services';

/**
 * The foundation's acceptance: the three real servers work together. An Avro schema is
 * registered in Apicurio (Confluent-compatible API), a record encoded with it is produced to
 * Kafka 3.9, consumed and decoded, then written to PostgreSQL and read back.
 */
describe('real Kafka, Apicurio Registry and PostgreSQL together', () => {
  const env = services();
  const kafka = new Kafka({ clientId: 'foundation-test', brokers: [env.KAFKA_BROKERS], logLevel: logLevel.NOTHING });
  const registry = new SchemaRegistry({ host: env.SCHEMA_REGISTRY_URL });
  const db = new Client({ connectionString: env.DATABASE_URL });

  beforeAll(() => db.connect());
  afterAll(() => db.end());

  it('registers, produces, consumes, decodes and stores one record', async () => {
    const topic = uniqueName('foundation');
    const schema = {
      type: 'record',
      name: 'Probe',
      namespace: 'test.foundation',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'name', type: 'string' },
        { name: 'score', type: ['null', 'double'], default: null },
      ],
    };
    const { id: schemaId } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject: `${topic}-value` },
    );
    expect(schemaId).toBeGreaterThan(0);

    const admin = kafka.admin();
    await admin.connect();
    await createTopicsReady(admin, [{ topic, numPartitions: 1 }]);
    await admin.disconnect();

    const value = { id: '005000000000001AAA', name: 'Zoë "Ångström", Jr.\nline two', score: 4.5 };
    const encoded = await registry.encode(schemaId, value);
    expect(encoded[0]).toBe(0); // Confluent wire format: magic byte, then the schema id
    expect(encoded.readInt32BE(1)).toBe(schemaId);

    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: value.id, value: encoded }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('foundation-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const decoded = await new Promise<typeof value>((resolve, reject) => {
      consumer
        .run({ eachMessage: async ({ message }) => resolve((await registry.decode(message.value!)) as typeof value) })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(decoded).toEqual(value);

    const table = uniqueName('probe').replace('-', '_');
    await db.query(`CREATE TABLE ${table} (id text PRIMARY KEY, name text NOT NULL, score double precision)`);
    try {
      await db.query(`INSERT INTO ${table} VALUES ($1, $2, $3)`, [decoded.id, decoded.name, decoded.score]);
      const { rows } = await db.query(`SELECT id, name, score FROM ${table}`);
      expect(rows).toEqual([value]);
    } finally {
      await db.query(`DROP TABLE ${table}`);
    }
  });
});
