import type { AvroSchemaJson } from '../../../../schemas/avro';
import { silentLogger } from '../../../../kernel/logger';
import { createDecoder } from '../../../../sinks/engine/decode';
import type { DeadLetterEntry } from '../../../../sinks/engine/dead-letter';
import { createBatchProcessor, type BatchProcessor } from '../../../../sinks/engine/processor';
import type { SinkStream } from '../../../../sinks/port';
import type { SchemaSource } from '../../../../sinks/postgres/schema-source';
import { sinkStreams } from '../../../../sinks/streams';
import { mulberry32 } from '../../../../simulator/prng';
import {
  CASCADES,
  EVENT,
  EVENTS,
  SCHEMAS,
  THING_V1,
  THING_V2,
  THINGS,
  fixtures,
  overlapping,
  type Expected,
  type FixtureBatch,
} from './fixtures';
import { IMPLEMENTATIONS, type SinkUnderTest } from './implementations';

/**
 * The sink conformance suite (as the Meltano SDK's target tests): the same seeded fixtures run
 * through the engine's batch processor (decoding, collapsing, dead letters) into every sink
 * implementation of the port, and the state each ends in is compared with the state folded from
 * the fixtures alone. CONFORMANCE_SEED=<n> replays a run.
 */
const seed = Number(process.env.CONFORMANCE_SEED ?? Math.floor(Math.random() * 2 ** 31));

const registry: SchemaSource = {
  byId: async (id) => SCHEMAS.get(id) ?? Promise.reject(new Error(`unknown schema id ${id}`)),
  latest: async () => undefined,
};

describe.each(IMPLEMENTATIONS)(`sink conformance: $name (CONFORMANCE_SEED=${seed})`, ({ create }) => {
  let impl: SinkUnderTest;
  let streams: SinkStream[];
  let processor: BatchProcessor;
  let dead: DeadLetterEntry[];

  beforeEach(async () => {
    impl = await create(['things', 'events']);
    streams = sinkStreams([THINGS, EVENTS], {
      tables: impl.tables,
      baseSchemas: { things: THING_V1, events: EVENT },
      cascades: CASCADES,
    });
    await impl.sink.open(streams, { logger: silentLogger, latestSchema: async () => undefined });
    dead = [];
    processor = createBatchProcessor({
      sink: impl.sink,
      decoder: createDecoder(registry, impl.sink.acceptSchema?.bind(impl.sink)),
      routes: new Map(streams.map((s) => [s.topic, s])),
      deadLetter: { topic: 'dead-letters', send: async (entries) => void dead.push(...entries) },
      logger: silentLogger,
      retry: { attempts: 3, initialDelayMs: 10, maxDelayMs: 50 },
      breakerFailures: 5,
    });
  });
  afterEach(() => impl.close());

  const stream = (name: string) => streams.find((s) => s.name === name)!;
  const run = (batch: FixtureBatch) =>
    processor.process(stream(batch.stream).topic, 0, batch.messages, {
      heartbeat: async () => undefined,
      signal: new AbortController().signal,
      nextOffset: BigInt(batch.messages[batch.messages.length - 1].offset) + 1n,
    });
  const state = async () => ({
    things: normalise(await impl.rows(stream('things')), THING_V2),
    events: normalise(await impl.rows(stream('events')), EVENT),
    deadLetters: dead
      .map((d) => [d.source.topic === stream('things').topic ? 'things' : 'events', d.source.offset, d.error.code])
      .sort((a, b) => (a.join() < b.join() ? -1 : 1)),
  });
  const want = (e: Expected) => ({
    things: normalise(e.things, THING_V2),
    events: normalise(e.events, EVENT),
    deadLetters: e.deadLetters,
  });

  it('ends each batch in the folded state; replays below the stored offset change nothing', async () => {
    const { batches, expectedAfter } = fixtures(seed);
    for (const [i, batch] of batches.entries()) {
      await run(batch);
      expect(await state()).toEqual(want(expectedAfter[i]));
    }
    const final = want(expectedAfter[expectedAfter.length - 1]);

    // A batch read again (a rebalance, a crash before Kafka's commit): entirely below the stored offset.
    const again = batches[Math.floor(mulberry32(seed)() * batches.length)];
    const replayed = await run(again);
    expect(replayed.skipped).toBeGreaterThan(0);
    expect(await state()).toEqual(final);

    // Straight through the port: a write whose next offset is not past the stored one is left out whole.
    const things = stream('things');
    const stored = (await impl.sink.storedOffsets(things)).get(0)!;
    const lastThings = batches.filter((b) => b.stream === 'things').pop()!;
    expect(stored).toBe(BigInt(lastThings.messages[lastThings.messages.length - 1].offset) + 1n);
    const below = await impl.sink.write({
      stream: things,
      partition: 0,
      nextOffset: stored,
      ops: [
        {
          kind: 'delete',
          key: final.things[0]?.[0] ?? 'x',
          source: { topic: things.topic, partition: 0, offset: '0', key: null, value: null },
        },
      ],
    });
    expect(below).toMatchObject({ skipped: 1, upserted: 0, inserted: 0, deleted: 0 });
    expect(await state()).toEqual(final);

    // Partly below: the old records are left out, the new ones applied.
    const { batch, expected } = overlapping(seed, lastThings, expectedAfter[expectedAfter.length - 1]);
    await run(batch);
    expect(await state()).toEqual(want(expected));
  });
});

/** Rows by key → [key, row] sorted, each row with every field of `schema` (a missing one null). */
function normalise(
  rows: ReadonlyMap<string, Record<string, unknown>>,
  schema: AvroSchemaJson,
): [string, Record<string, unknown>][] {
  const fields = (schema as { fields: { name: string }[] }).fields.map((f) => f.name);
  return [...rows]
    .map(([k, r]): [string, Record<string, unknown>] => [k, Object.fromEntries(fields.map((f) => [f, r[f] ?? null]))])
    .sort(([a], [b]) => (a < b ? -1 : 1));
}
