import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { ConnectorError, FatalError, RetriableError } from '../../../kernel/errors';
import { RegistryHttpError, type RegistryAdmin, type CompatibilityLevel } from '../../../schemas/registry-client';
import {
  classifyRegistryError,
  connectorTopicSchemas,
  registerTopicSchemas,
  REGISTRY_CLIENT_ID,
} from '../../../schemas/registry';
import { loadConnectorSchemas } from '../../../schemas/avro';

const record = { type: 'record' as const, name: 'V', namespace: 'n', fields: [{ name: 'id', type: 'string' }] };

/** In-memory stand-ins that record the calls in order. */
function fakes(levels: Record<string, CompatibilityLevel> = {}, registerError?: unknown) {
  const calls: string[] = [];
  let next = 10;
  const admin: RegistryAdmin = {
    getCompatibility: async (s) => (calls.push(`get-config ${s}`), levels[s] ?? null),
    setCompatibility: async (s, l) => void calls.push(`put-config ${s} ${l}`),
    registerSchema: async (s, schema) => (calls.push(`admin-register ${s} ${schema}`), next++),
  };
  const registry = {
    register: async (schema: { schema: string }, opts: { subject: string; compatibility: string }) => {
      calls.push(`lib-register ${opts.subject} ${opts.compatibility}`);
      if (registerError) throw registerError;
      JSON.parse(schema.schema);
      return { id: next++ };
    },
  } as unknown as SchemaRegistry;
  return { calls, clients: { admin, registry } };
}

describe('registerTopicSchemas', () => {
  test('sets BACKWARD before registering; string keys via the ccompat client, records via the library', async () => {
    const { calls, clients } = fakes();
    const result = await registerTopicSchemas(clients, [{ topic: 'users', key: 'string', value: record }]);
    expect(calls).toEqual([
      'get-config users-key',
      'put-config users-key BACKWARD',
      'admin-register users-key "string"',
      'get-config users-value',
      'put-config users-value BACKWARD',
      'lib-register users-value BACKWARD',
    ]);
    expect(result).toEqual([
      {
        topic: 'users',
        key: { subject: 'users-key', id: 10, compatibility: 'BACKWARD' },
        value: { subject: 'users-value', id: 11, compatibility: 'BACKWARD' },
      },
    ]);
  });

  test.each<[CompatibilityLevel, CompatibilityLevel, boolean]>([
    ['BACKWARD', 'BACKWARD', false],
    ['FULL_TRANSITIVE', 'FULL_TRANSITIVE', false],
    ['BACKWARD_TRANSITIVE', 'BACKWARD_TRANSITIVE', false],
    ['NONE', 'BACKWARD', true],
    ['FORWARD', 'BACKWARD', true],
  ])('subject at %s ends at %s (config written: %s)', async (before, after, written) => {
    const { calls, clients } = fakes({ 't-value': before });
    const [r] = await registerTopicSchemas(clients, [{ topic: 't', key: 'string', value: record }]);
    expect(r.value.compatibility).toBe(after);
    expect(calls.includes(`put-config t-value BACKWARD`)).toBe(written);
    expect(calls).toContain(`lib-register t-value ${after}`);
  });

  test('an incompatible schema fails with a FatalError carrying the registry explanation', async () => {
    const libraryError = Object.assign(
      new Error(`${REGISTRY_CLIENT_ID} - Incompatible artifact: t-value [AVRO], list of diff types: [b at /fields/1]`),
      { status: 409 },
    );
    const { clients } = fakes({}, libraryError);
    const failure = registerTopicSchemas(clients, [{ topic: 't', key: 'string', value: record }], {
      retry: { attempts: 1 },
    });
    await expect(failure).rejects.toBeInstanceOf(FatalError);
    await expect(failure).rejects.toMatchObject({
      code: 'SCHEMA_INCOMPATIBLE',
      message:
        'schema registry: the schema for subject t-value is incompatible with its registered versions: ' +
        'Incompatible artifact: t-value [AVRO], list of diff types: [b at /fields/1]',
    });
  });

  test('a registry that is down is retried, then reported as retriable', async () => {
    const { clients } = fakes();
    let attempts = 0;
    clients.admin.getCompatibility = async () => {
      attempts++;
      throw new TypeError('fetch failed');
    };
    const failure = registerTopicSchemas(clients, [{ topic: 't', key: 'string', value: record }], {
      retry: { attempts: 3, initialDelayMs: 1 },
    });
    await expect(failure).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE', retriable: true });
    expect(attempts).toBe(3);
  });

  test('connectorTopicSchemas pairs each topic with its schemas, string keys everywhere', () => {
    const s = loadConnectorSchemas();
    const sets = connectorTopicSchemas({ users: 'u', loginHistory: 'l', state: 's' }, s);
    expect(sets).toEqual([
      { topic: 'u', key: 'string', value: s.userValue },
      { topic: 'l', key: 'string', value: s.loginEventValue },
      { topic: 's', key: 'string', value: s.runStateValue },
    ]);
  });
});

describe('classifyRegistryError: one table for every registry failure', () => {
  const withStatus = (status: number, message: string) =>
    Object.assign(new Error(`${REGISTRY_CLIENT_ID} - ${message}`), { status });
  const table: [string, unknown, string, boolean][] = [
    ['409 from the library', withStatus(409, 'Incompatible'), 'SCHEMA_INCOMPATIBLE', false],
    ['409 from ccompat', new RegistryHttpError(409, 'Incompatible', 409), 'SCHEMA_INCOMPATIBLE', false],
    ['422 invalid schema', new RegistryHttpError(422, 'Invalid schema', 42201), 'SCHEMA_INVALID', false],
    ['401', new RegistryHttpError(401, 'Unauthorized'), 'REGISTRY_UNAUTHORIZED', false],
    ['403', withStatus(403, 'Forbidden'), 'REGISTRY_UNAUTHORIZED', false],
    [
      '404 on a call that needs the subject',
      new RegistryHttpError(404, 'Subject not found'),
      'REGISTRY_REQUEST_FAILED',
      false,
    ],
    ['500', new RegistryHttpError(500, 'boom'), 'REGISTRY_UNAVAILABLE', true],
    ['503 from the library', withStatus(503, 'unavailable'), 'REGISTRY_UNAVAILABLE', true],
    ['network error (fetch)', new TypeError('fetch failed'), 'REGISTRY_UNAVAILABLE', true],
    [
      'network error (library reports it as 400)',
      withStatus(400, 'Error, status 400: connect ECONNREFUSED 127.0.0.1:1'),
      'REGISTRY_UNAVAILABLE',
      true,
    ],
    [
      'library compatibility mismatch',
      Object.assign(new Error('Compatibility does not match the configuration (BACKWARD != NONE)'), {
        name: 'ConfluentSchemaRegistryCompatibilityError',
      }),
      'REGISTRY_REQUEST_FAILED',
      false,
    ],
  ];
  test.each(table)('%s -> %s (retriable %s)', (_name, err, code, retriable) => {
    const classified = classifyRegistryError(err, 's-value', 'register schema');
    expect(classified).toBeInstanceOf(retriable ? RetriableError : FatalError);
    expect(classified).toMatchObject({ code, retriable, cause: err });
    expect(classified.message).not.toContain(`${REGISTRY_CLIENT_ID} - `);
  });

  test('a ConnectorError passes through unchanged', () => {
    const e = new ConnectorError('X', 'x');
    expect(classifyRegistryError(e, 's', 'w')).toBe(e);
  });
});
