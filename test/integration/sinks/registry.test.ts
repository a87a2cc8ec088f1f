import type { Logger } from '../../../kernel/logger';
import { registryClient } from '../../../schemas/registry-client';
import { registrySchemaSource, type SchemaSource } from '../../../sinks';
import { RetriableError } from '../../../kernel/errors';
import { mulberry32 } from '../../../simulator/prng';
import { SinkHarness, type Produce } from '../../support/sink-harness';
import { user, userId } from '../../support/sink-fixtures';
import { DedicatedRegistry } from '../../support/sink-registry';
import { waitFor } from '../../support/wait';

/**
 * Registry trouble is not a bad record: a registry that does not know the schema ids (restarted
 * empty, or the wrong path) makes the partition wait, dead-letters nothing and moves no offset;
 * only a malformed record is dead-lettered; when the trouble never ends, the circuit breaker
 * stops the sink with an error that says what to check. REGISTRY_SEED=<n> replays a run.
 */
const seed = Number(process.env.REGISTRY_SEED ?? Math.floor(Math.random() * 2 ** 31));
jest.setTimeout(600_000);

/** A logger that keeps the warnings, for waiting on "the sink is retrying". */
function capturing(): Logger & { warnings: { msg: string; fields?: Record<string, unknown> }[] } {
  const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
  const logger = {
    warnings,
    debug() {},
    info() {},
    error() {},
    warn: (msg: string, fields?: Record<string, unknown>) => void warnings.push({ msg, fields }),
    child: () => logger,
  };
  return logger;
}

function randomUsers(
  rnd: () => number,
  keys: number,
  tag: string,
): { records: Produce[]; latest: Map<string, string | null> } {
  const records: Produce[] = [];
  const latest = new Map<string, string | null>();
  for (let i = 0; i < keys; i++) {
    if (rnd() < 0.15) {
      records.push({ key: userId(i), value: null });
      latest.set(userId(i), null);
    } else {
      records.push({ key: userId(i), value: user(userId(i), { title: `${tag}-${i}` }) });
      latest.set(userId(i), `${tag}-${i}`);
    }
  }
  return { records, latest };
}

const rowsOf = (latest: Map<string, string | null>) =>
  [...latest]
    .filter(([, t]) => t !== null)
    .map(([id, title]) => ({ id, title }))
    .sort((a, b) => a.id.localeCompare(b.id));

describe(`PostgreSQL sink: registry trouble (REGISTRY_SEED=${seed})`, () => {
  it('registry restarted empty mid-stream: only the bad record dead-lettered, no offset moved; resumes', async () => {
    const rnd = mulberry32(seed);
    const registry = new DedicatedRegistry();
    await registry.start();
    const h = await new SinkHarness({ registryUrl: registry.url }).setUp();
    try {
      const before = h.schemaIds();
      const keys = 10 + Math.floor(rnd() * 40);
      const first = randomUsers(rnd, keys, 'first');
      await h.produce(
        h.topics.users,
        first.records.map((r) =>
          r.value === null ? { key: r.key, value: user(r.key as string, { title: 'first-x' }) } : r,
        ),
      );
      const s1 = h.sink();
      await s1.start();
      await h.caughtUp();
      await s1.stop();
      const afterFirst = await h.rows('users', 'id, title');
      expect(afterFirst).toHaveLength(keys);

      // The registry restarts empty; the topic gets newer records (ids of the old registry) and
      // one malformed record among them.
      await registry.stop();
      await registry.start();
      expect(await registryClient({ url: registry.url }).subjects()).toEqual([]);
      const second = randomUsers(rnd, keys, 'second');
      const bad = Math.floor(rnd() * second.records.length);
      const malformed: Produce = { key: userId(1000), value: Buffer.from('not Confluent wire format') };
      await h.produce(h.topics.users, [...second.records.slice(0, bad), malformed, ...second.records.slice(bad)]);

      const logger = capturing();
      const s2 = h.sink({
        logger,
        tuning: { retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 50, maxDelayMs: 500 } },
      });
      await s2.start();
      await waitFor(
        'the sink to retry on the unknown schema ids, or to dead-letter',
        60_000,
        async () =>
          logger.warnings.filter((w) => w.fields?.code === 'SCHEMA_NOT_FOUND').length >= 3 ||
          (await h.deadLetters()).length > 0,
      );
      expect(await h.deadLetters()).toEqual([]);
      expect(await h.rows('users', 'id, title')).toEqual(afterFirst);

      // The schemas come back (as the connector's next run registers them): same ids.
      const again = await h.registerSchemas();
      expect({ users: again.users.value.id, logins: again.logins.value.id }).toEqual(before);
      await h.caughtUp();
      expect(await h.rows('users', 'id, title')).toEqual(rowsOf(second.latest));
      const dead = await h.deadLetters();
      expect(dead.map((d) => d.value?.toString())).toEqual(['not Confluent wire format']);
    } finally {
      await h.close();
      await registry.remove();
    }
  });

  it('registry unavailable while the sink starts: it waits (logging), then starts and writes everything', async () => {
    const rnd = mulberry32(seed + 2);
    const h = await new SinkHarness().setUp();
    try {
      const keys = 3 + Math.floor(rnd() * 20);
      const { records, latest } = randomUsers(rnd, keys, 'start');
      await h.produce(h.topics.users, records);
      // The registry does not answer the first few look-ups (a restart, a pause): an outage.
      const real = registrySchemaSource({ url: h.registryUrl });
      let outages = 1 + Math.floor(rnd() * 4);
      const flaky: SchemaSource = {
        byId: (id) => real.byId(id),
        latest: async (subject) => {
          if (outages-- > 0) throw new RetriableError('REGISTRY_UNAVAILABLE', 'schema registry: no answer (planted)');
          return real.latest(subject);
        },
      };
      const logger = capturing();
      const sink = h.sink({
        logger,
        schemas: flaky,
        tuning: { retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 20, maxDelayMs: 100 } },
      });
      await sink.start();
      expect(logger.warnings.some((w) => w.fields?.code === 'REGISTRY_UNAVAILABLE')).toBe(true);
      await h.caughtUp();
      expect(await h.rows('users', 'id, title')).toEqual(rowsOf(latest));
      expect(await h.deadLetters()).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('registry down for longer than the breaker allows while the sink starts: it stops with the fix', async () => {
    const rnd = mulberry32(seed + 3);
    const h = await new SinkHarness().setUp();
    try {
      const breakerFailures = 2 + Math.floor(rnd() * 4);
      let asked = 0;
      const down: SchemaSource = {
        byId: () => Promise.reject(new RetriableError('REGISTRY_UNAVAILABLE', 'schema registry: no answer (planted)')),
        latest: async () => {
          asked++;
          throw new RetriableError('REGISTRY_UNAVAILABLE', 'schema registry: no answer (planted)');
        },
      };
      const sink = h.sink({
        schemas: down,
        tuning: { breakerFailures, retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 10, maxDelayMs: 20 } },
      });
      const failed = await sink.start().then(
        () => undefined,
        (err: Error) => err,
      );
      // the same breaker as while consuming: as many tries as it allows, then a FatalError that says what to check
      expect(failed).toMatchObject({ code: 'SINK_CIRCUIT_OPEN', retriable: false });
      expect(failed!.message).toMatch(
        new RegExp(`opening the sink failed ${breakerFailures} times in a row .*REGISTRY_UNAVAILABLE.*registry\\.url`),
      );
      expect(asked).toBe(breakerFailures);
    } finally {
      await h.close();
    }
  });

  it('registry never knows the ids: breaker stops the sink, clear error; none dead-lettered or written', async () => {
    const rnd = mulberry32(seed + 1);
    const h = await new SinkHarness().setUp();
    try {
      const keys = 3 + Math.floor(rnd() * 20);
      await h.produce(
        h.topics.users,
        Array.from({ length: keys }, (_, i) => ({ key: userId(i), value: user(userId(i)) })),
      );
      const sink = h.sink({
        // A path of the registry that answers 404 to everything: the wrong registry.url.
        schemas: registrySchemaSource({ url: `${h.registryUrl}/no-such-path` }),
        tuning: {
          breakerFailures: 5,
          retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 20, maxDelayMs: 100 },
        },
      });
      let stopped: Error | undefined;
      sink.done.catch((err: Error) => (stopped = err));
      await sink.start();
      await waitFor(
        'the sink to stop, or to dead-letter',
        60_000,
        async () => stopped !== undefined || (await h.deadLetters()).length > 0,
      );
      expect(await h.deadLetters()).toEqual([]);
      expect(stopped).toMatchObject({ code: 'SINK_CIRCUIT_OPEN' });
      expect(stopped!.message).toMatch(/5 times in a row .*SCHEMA_NOT_FOUND.*registry\.url/);
      expect(await h.rows('users')).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
