import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { FatalError, RetriableError } from '../../../kernel/errors';
import { registrySchemaSource } from '../../../sinks/postgres/schema-source';

const ROOT = join(__dirname, '../../..');
/** Where the registry's own HTTP lives: nowhere else. test/infra only probes readiness (lead's devstack). */
const THE_CLIENT = 'schemas/registry-client.ts';
const SCANNED = [
  'bin',
  'connectors',
  'pipeline',
  'schemas',
  'sinks',
  'bench',
  'test/support',
  'test/integration',
  'test/unit',
];
const REGISTRY_PATH = /[`'"/](subjects|schemas\/ids|config\/\$\{)[/`'"?]/;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) return sources(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

describe('one schema-registry client', () => {
  it('no module but the client builds a registry URL (subjects, schemas/ids, config)', () => {
    const speaking = SCANNED.flatMap(sources)
      .filter((f) => f !== THE_CLIENT && !f.endsWith('registry-client.test.ts'))
      .filter((f) =>
        readFileSync(join(ROOT, f), 'utf8')
          .split('\n')
          .some((l) => REGISTRY_PATH.test(l) && /fetch\(|\$\{/.test(l)),
      );
    expect(speaking.map((f) => relative('.', f))).toEqual([]);
  });
});

/**
 * The sink's schema look-ups through the client, against a registry stand-in answering each
 * request with a random status. Replay a run with SF_TEST_SEED=<printed seed>.
 */
describe('the sink schema source over the client', () => {
  const seed = Number(process.env.SF_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  let next = seed;
  const rnd = () => (next = (next * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let answer: { status: number; body: unknown } = { status: 200, body: {} };
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(answer.status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
    res.end(JSON.stringify(answer.body));
  });
  let url = '';
  beforeAll(async () => {
    console.log(`registry-client seed ${seed} (replay: SF_TEST_SEED=${seed})`);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('maps each answer to the sink error table: unknown id and outages retriable, auth fatal', async () => {
    const table: [number, string | null, boolean][] = [
      [200, null, false],
      [404, 'SCHEMA_NOT_FOUND', true],
      [503, 'REGISTRY_UNAVAILABLE', true],
      [401, 'REGISTRY_UNAUTHORIZED', false],
      [403, 'REGISTRY_UNAUTHORIZED', false],
      [400, 'REGISTRY_REQUEST_FAILED', false],
    ];
    const source = registrySchemaSource({ url });
    for (let i = 0; i < 8; i++) {
      const [status, code, retriable] = table[Math.floor(rnd() * table.length)];
      const id = 1 + Math.floor(rnd() * 1000);
      const schema = { type: 'record', name: `R${id}`, fields: [] };
      answer = {
        status,
        body: status === 200 ? { schema: JSON.stringify(schema) } : { error_code: status * 100, message: `m${id}` },
      };
      seen.length = 0;
      const got = await source.byId(id).then(
        (s) => s,
        (e: unknown) => e,
      );
      expect(seen[0]).toBe(`GET /apis/ccompat/v7/schemas/ids/${id}`);
      if (code === null) {
        expect(got).toEqual(schema);
        continue;
      }
      expect(got).toBeInstanceOf(retriable ? RetriableError : FatalError);
      expect(got).toMatchObject({ code, retriable });
    }
  }, 60_000);

  it('a subject the registry does not have has no latest schema; a refused connection is an outage', async () => {
    answer = { status: 404, body: { error_code: 40401, message: 'Subject not found' } };
    expect(await registrySchemaSource({ url }).latest('t-value')).toBeUndefined();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(registrySchemaSource({ url: `http://127.0.0.1:${port}` }).byId(1)).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      retriable: true,
    });
  });
});
