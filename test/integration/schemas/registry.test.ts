import { randomUUID } from 'node:crypto';
import { FatalError } from '../../../kernel/errors';
import { avroType, loadConnectorSchemas, type AvroSchemaJson } from '../../../schemas/avro';
import { createTopicCodec, writerSchemasFrom } from '../../../schemas/codec';
import {
  connectorTopicSchemas,
  registerTopicSchemas,
  registryFromConfig,
  type TopicSchemaSet,
} from '../../../schemas/registry';
import { registryClient } from '../../../schemas/registry-client';
import { services } from '../../support/services';
import { registryHttp } from './registry-http';

/** Schema registration against the real Apicurio Registry (ccompat API). Each test has its own topics. */
const { SCHEMA_REGISTRY_URL } = services();
const http = registryHttp(SCHEMA_REGISTRY_URL);
const schemas = loadConnectorSchemas();
const fresh = () => registryFromConfig({ url: SCHEMA_REGISTRY_URL });
const topicName = (p: string) => `${p}-${randomUUID()}`;

type Field = { name: string; type: unknown; default?: unknown; doc?: string };
const userV1 = schemas.userValue as { fields: Field[] };
/** The user schema with `change` applied to its field list. */
const userWith = (change: (fields: Field[]) => Field[]): AvroSchemaJson =>
  ({ ...userV1, fields: change(userV1.fields) }) as AvroSchemaJson;
const userSet = (topic: string, value: AvroSchemaJson): TopicSchemaSet[] => [{ topic, key: schemas.key, value }];

describe('schema registration at start-up', () => {
  test('every topic gets <topic>-key and <topic>-value subjects at BACKWARD, holding our schemas', async () => {
    const topics = { users: topicName('users'), loginHistory: topicName('logins'), state: topicName('state') };
    const registered = await registerTopicSchemas(fresh(), connectorTopicSchemas(topics, schemas));

    // Asked subject by subject: Apicurio's GET /subjects lists at most 1,000, and a long-lived
    // shared registry holds more.
    for (const r of registered) {
      for (const [part, local] of [
        [r.key, schemas.key],
        [
          r.value,
          r.topic === topics.users
            ? schemas.userValue
            : r.topic === topics.loginHistory
              ? schemas.loginEventValue
              : schemas.runStateValue,
        ],
      ] as const) {
        expect(await http.versions(part.subject)).not.toHaveLength(0);
        expect(part.compatibility).toBe('BACKWARD');
        expect(await http.compatibility(part.subject)).toBe('BACKWARD');
        expect((await http.latest(part.subject)).id).toBe(part.id);
        // The registry canonicalises schema text: compare parsed types, never strings.
        expect(avroType((await http.schemaById(part.id)) as AvroSchemaJson).equals(avroType(local))).toBe(true);
      }
    }
    expect(registered.map((r) => [r.key.subject, r.value.subject])).toEqual([
      [`${topics.users}-key`, `${topics.users}-value`],
      [`${topics.loginHistory}-key`, `${topics.loginHistory}-value`],
      [`${topics.state}-key`, `${topics.state}-value`],
    ]);
  });

  test('registering again (the next start-up) is idempotent: same ids, no new versions', async () => {
    const topic = topicName('users');
    const first = await registerTopicSchemas(fresh(), userSet(topic, schemas.userValue));
    const second = await registerTopicSchemas(fresh(), userSet(topic, schemas.userValue));
    expect(second).toEqual(first);
    expect(await http.versions(`${topic}-value`)).toEqual([1]);
  });

  test('a stricter level an operator chose is kept', async () => {
    const topic = topicName('users');
    await registryClient({ url: SCHEMA_REGISTRY_URL }).setCompatibility(`${topic}-value`, 'FULL_TRANSITIVE');
    const [r] = await registerTopicSchemas(fresh(), userSet(topic, schemas.userValue));
    expect(r.value.compatibility).toBe('FULL_TRANSITIVE');
    expect(await http.compatibility(`${topic}-value`)).toBe('FULL_TRANSITIVE');
  });
});

describe('an incompatible schema change fails start-up with the registry explanation', () => {
  const changes: [string, (f: Field[]) => Field[], RegExp][] = [
    [
      'a new required field without default',
      (f) => [...f, { name: 'costCenter', type: 'string', doc: 'Cost center.' }],
      /costCenter at \/fields\/\d+/,
    ],
    [
      'a type change (isActive boolean -> string)',
      (f) => f.map((x) => (x.name === 'isActive' ? { ...x, type: 'string' } : x)),
      /reader type: STRING not compatible with writer type: BOOLEAN/,
    ],
    [
      'a type change (latitude double -> string)',
      (f) => f.map((x) => (x.name === 'latitude' ? { ...x, type: ['null', 'string'] } : x)),
      /reader union lacking writer type: DOUBLE at \/fields\/\d+\/type/,
    ],
  ];
  test.each(changes)('%s', async (_name, change, explanation) => {
    const topic = topicName('users');
    await registerTopicSchemas(fresh(), userSet(topic, schemas.userValue));

    const failure = registerTopicSchemas(fresh(), userSet(topic, userWith(change)), { retry: { attempts: 1 } });
    await expect(failure).rejects.toBeInstanceOf(FatalError);
    const err = (await failure.catch((e: unknown) => e)) as FatalError;
    expect(err.code).toBe('SCHEMA_INCOMPATIBLE');
    expect(err.message).toContain(
      `the schema for subject ${topic}-value is incompatible with its registered versions: `,
    );
    expect(err.message).toMatch(/Incompatible artifact/);
    expect(err.message).toMatch(explanation);
    expect(await http.versions(`${topic}-value`)).toEqual([1]);
  });
});

describe('schema evolution: add an optional field', () => {
  test('version 2 registers; a v1 reader decodes v2 records and a v2 reader decodes v1 records', async () => {
    const topic = topicName('users');
    const v2 = userWith((f) => [
      ...f,
      { name: 'pronouns', type: ['null', 'string'], default: null, doc: 'Pronouns, when the org records them.' },
    ]);
    const [r1] = await registerTopicSchemas(fresh(), userSet(topic, schemas.userValue));
    const [r2] = await registerTopicSchemas(fresh(), userSet(topic, v2));
    expect(await http.versions(`${topic}-value`)).toEqual([1, 2]);
    expect(r2.value.id).not.toBe(r1.value.id);

    // Each codec reads writer schemas from the registry by the id in the message, with a fresh client
    // (no shared cache).
    const v1Codec = createTopicCodec(r1, userSet(topic, schemas.userValue)[0], writerSchemasFrom(fresh().registry));
    const v2Codec = createTopicCodec(r2, userSet(topic, v2)[0], writerSchemasFrom(fresh().registry));
    const base = Object.fromEntries(userV1.fields.map((f) => [f.name, f.default === undefined ? null : f.default]));
    const v1Record = {
      ...base,
      id: '005Hn00000AbCdEIAV',
      isActive: true,
      status: 'active',
      recordUrl: 'https://x/005Hn00000AbCdEIAV',
      orgId: 'o',
      connectorName: 'c',
      runId: 'r',
      extractedAt: 1,
    };
    const v2Record = { ...v1Record, pronouns: 'she/her' };

    expect(await v1Codec.decodeValue(v2Codec.encodeValue(v2Record))).toEqual(v1Record);
    expect(await v2Codec.decodeValue(v1Codec.encodeValue(v1Record))).toEqual({ ...v1Record, pronouns: null });
  });
});
