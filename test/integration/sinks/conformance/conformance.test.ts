import { Kafka, logLevel } from 'kafkajs';
import { createTopicsReady } from '../../../../kafka/topics';
import { avroType, type AvroSchemaJson } from '../../../../schemas/avro';
import { DEAD_LETTER_HEADERS } from '../../../../schemas/topics';
import { FatalError, RetriableError } from '../../../../kernel/errors';
import { silentLogger } from '../../../../kernel/logger';
import { readToEnd } from '../../../../pipeline/kafka/read-to-end';
import { createSinkEngine } from '../../../../sinks/engine/engine';
import { createDecoder } from '../../../../sinks/engine/decode';
import { collapseInserts, collapseUpserts, type DecodedRecord } from '../../../../sinks/engine/collapse';
import type { DeadLetterEntry } from '../../../../sinks/engine/dead-letter';
import { createBatchProcessor, type BatchProcessor } from '../../../../sinks/engine/processor';
import type { SinkStream } from '../../../../sinks/port';
import type { SchemaSource } from '../../../../sinks/postgres/schema-source';
import { sinkStreams } from '../../../../sinks/streams';
import { mulberry32 } from '../../../../simulator/prng';
import {
  CASCADES,
  EVENT,
  IDS,
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
import { headerStrings } from '../../../support/sink-harness';
import { services, uniqueName } from '../../../support/services';
import { waitFor } from '../../../support/wait';

/**
 * The sink conformance suite (as the Meltano SDK's target tests): the same seeded fixtures run
 * into every sink implementation of the port, once through the engine's batch processor
 * (decoding, collapsing, dead letters, batch by batch) and once through Kafka and the whole
 * engine, and the state each ends in is compared with the state folded from the fixtures alone.
 * CONFORMANCE_SEED=<n> replays a run.
 */
const seed = Number(process.env.CONFORMANCE_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Small transactions for the slicing test: slices of this many bytes of records (processor.ts), 2–10 records each. */
const maxBatchBytes = 100 + (seed % 300);

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
      topics: { things: uniqueName('conf-things'), events: uniqueName('conf-events') },
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
  /** A fixture batch's good records as the port receives them (decoded, one change per key). */
  const collapse = async (name: string, batch: FixtureBatch) => {
    const decoder = createDecoder(registry);
    const good: DecodedRecord[] = [];
    for (const m of batch.messages) {
      const source = { topic: stream(name).topic, partition: 0, offset: m.offset, key: m.key, value: m.value };
      const decoded = await decoder.decode(m).catch(() => undefined); // not Avro: dead-lettered, never written
      if (decoded && decoded.key !== '' && (name === 'things' || decoded.value !== null))
        good.push({ decoded, source });
    }
    return name === 'things' ? collapseUpserts(good) : collapseInserts(good);
  };
  const state = async (
    deadLetters = dead.map((d) => ({ topic: d.source.topic, offset: d.source.offset, code: d.error.code })),
  ) => ({
    things: normalise(await impl.rows(stream('things')), THING_V2),
    events: normalise(await impl.rows(stream('events')), EVENT),
    deadLetters: deadLetters
      .map((d) => [d.topic === stream('things').topic ? 'things' : 'events', d.offset, d.code])
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

  it('a write that fails before its commit leaves rows and offsets as they were', async () => {
    const { batches, expectedAfter } = fixtures(seed);
    // Into the empty tables first (an initial load, rows COPYed straight in): nothing visible, no offset.
    const empty = await state();
    for (const name of ['things', 'events']) {
      const s = stream(name);
      const failing = impl.sink.write({
        stream: s,
        partition: 0,
        ops: await collapse(
          name,
          batches.find((b) => b.stream === name)!,
        ),
        nextOffset: 1000n,
        beforeCommit: async () => Promise.reject(new RetriableError('DEAD_LETTER_SEND_FAILED', 'the topic is down')),
      });
      await expect(failing).rejects.toMatchObject({ code: 'DEAD_LETTER_SEND_FAILED', retriable: true });
      expect(await state()).toEqual(empty);
      expect((await impl.sink.storedOffsets(s)).get(0)).toBeUndefined();
    }
    await run(batches[0]);
    // Deletes of every thing written and one new row, in a transaction that fails at its end.
    const before = await state();
    const things = stream('things');
    const stored = (await impl.sink.storedOffsets(things)).get(0);
    const source = (offset: string) => ({ topic: things.topic, partition: 0, offset, key: null, value: null });
    const writer = {
      id: 2,
      json: THING_V1,
      type: avroType(THING_V1),
      fields: new Set(['id', 'name', 'note', 'count', 'active']),
    };
    const ops = [
      ...[...expectedAfter[0].things.keys()].map((key, i) => ({
        kind: 'delete' as const,
        key,
        source: source(String(100 + i)),
      })),
      {
        kind: 'upsert' as const,
        key: 'fresh',
        value: { id: 'fresh', name: 'x', note: null, count: 1, active: true },
        writer,
        source: source('200'),
      },
    ];
    const failing = impl.sink.write({
      stream: things,
      partition: 0,
      ops,
      nextOffset: 1000n,
      beforeCommit: async () =>
        Promise.reject(new RetriableError('DEAD_LETTER_SEND_FAILED', 'the dead-letter topic is down')),
    });
    await expect(failing).rejects.toMatchObject({ code: 'DEAD_LETTER_SEND_FAILED', retriable: true });
    expect(await state()).toEqual(before);
    expect((await impl.sink.storedOffsets(things)).get(0)).toBe(stored);
  });

  it('a batch read again across a commit: its tombstone below the stored offset is not applied again', async () => {
    // [value@0] and [tombstone@1] committed; the user's new login event lands; then the batch
    // [tombstone@1, value@2] is read again (a restart after its first slice committed, a zombie,
    // a replay's swap): record by record, only value@2 is new, so the new event stays.
    const things = stream('things');
    const events = stream('events');
    const writer = { id: IDS.thingV1, json: THING_V1, type: avroType(THING_V1), fields: fieldsOf(THING_V1) };
    const eventWriter = { id: IDS.event, json: EVENT, type: avroType(EVENT), fields: fieldsOf(EVENT) };
    const src = (topic: string, offset: number) => ({
      topic,
      partition: 0,
      offset: String(offset),
      key: null,
      value: null,
    });
    const thing = (offset: number, name: string): DecodedRecord => ({
      decoded: { key: 'k1', value: { id: 'k1', name, note: null, count: offset, active: true }, writer },
      source: src(things.topic, offset),
    });
    const tombstone: DecodedRecord = { decoded: { key: 'k1', value: null }, source: src(things.topic, 1) };
    await impl.sink.write({ stream: things, partition: 0, nextOffset: 1n, ops: collapseUpserts([thing(0, 'first')]) });
    await impl.sink.write({ stream: things, partition: 0, nextOffset: 2n, ops: collapseUpserts([tombstone]) });
    const event = { id: 'e1', thingId: 'k1', seq: 1, text: null };
    await impl.sink.write({
      stream: events,
      partition: 0,
      nextOffset: 1n,
      ops: [{ kind: 'insert', key: 'e1', value: event, writer: eventWriter, source: src(events.topic, 0) }],
    });
    const again = await impl.sink.write({
      stream: things,
      partition: 0,
      nextOffset: 3n,
      ops: collapseUpserts([tombstone, thing(2, 'back')]),
    });
    expect(again).toMatchObject({ upserted: 1, deleted: 0 });
    expect([...(await impl.rows(events)).keys()]).toEqual(['e1']);
    expect((await impl.rows(things)).get('k1')).toMatchObject({ name: 'back' });
  });

  it('a batch beyond maxBatchBytes commits in slices with their offsets; a failure keeps slices before', async () => {
    const { batches, expectedAfter } = fixtures(seed);
    const things = stream('things');
    const first = batches[0];
    let slices = 0;
    const failing = createBatchProcessor({
      sink: impl.sink,
      decoder: createDecoder(registry, impl.sink.acceptSchema?.bind(impl.sink)),
      routes: new Map(streams.map((s) => [s.topic, s])),
      deadLetter: { topic: 'dead-letters', send: async (entries) => void dead.push(...entries) },
      logger: silentLogger,
      retry: { attempts: 1, initialDelayMs: 10, maxDelayMs: 10 },
      breakerFailures: 5,
      maxBatchBytes,
      hooks: {
        insideTransaction: ({ firstOffset }) => {
          if (++slices === 2) throw new FatalError('TEST_CRASH', `the second slice (from offset ${firstOffset}) fails`);
        },
      },
    });
    const nextOffset = BigInt(first.messages[first.messages.length - 1].offset) + 1n;
    const ctx = { heartbeat: async () => undefined, signal: new AbortController().signal, nextOffset };
    await expect(failing.process(things.topic, 0, first.messages, ctx)).rejects.toMatchObject({ code: 'TEST_CRASH' });
    const stored = (await impl.sink.storedOffsets(things)).get(0);
    // The first slice is committed: its offset is stored, below the batch's end.
    expect(stored).toBeGreaterThan(0n);
    expect(stored!).toBeLessThan(nextOffset);
    // Read again from the start (what a restart does): the whole batch's state, nothing twice.
    await run(first);
    expect(await state()).toEqual(want(expectedAfter[0]));
  });

  it('through Kafka and the whole engine (seek to stored offsets, dead-letter topic): the same state', async () => {
    const kafka = new Kafka({
      clientId: 'conformance',
      brokers: [services().KAFKA_BROKERS],
      logLevel: logLevel.NOTHING,
    });
    const deadLetterTopic = uniqueName('conf-dlq');
    const topics = streams.map((s) => s.topic);
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsReady(
      admin,
      topics.map((topic) => ({ topic, numPartitions: 1 })),
    );
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const engine = (groupId: string) =>
      createSinkEngine({
        kafka,
        sink: impl.sink,
        streams,
        schemas: registry,
        deadLetterTopic,
        groupId,
        closeSink: false,
        tuning: {
          maxBytesPerPartition: 1 << 20,
          partitionsConsumedConcurrently: 2,
          sessionTimeoutMs: 10_000,
          fromBeginning: true,
          retry: { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 50, maxDelayMs: 500 },
          breakerFailures: 20,
          stallAfterMs: 60_000,
        },
      });
    // Each fixture batch is produced once the sink has stored the previous one, so a deletion
    // cascades over exactly the events produced before it, as in the fold.
    const send = async (batch: FixtureBatch) => {
      const s = stream(batch.stream);
      await producer.send({
        topic: s.topic,
        acks: -1,
        messages: batch.messages.map((m) => ({ key: m.key, value: m.value })),
      });
      const end = BigInt(batch.messages[batch.messages.length - 1].offset) + 1n;
      await waitFor(
        `the sink to store ${s.topic} up to ${end}`,
        60_000,
        async () => ((await impl.sink.storedOffsets(s)).get(0) ?? 0n) >= end,
      );
    };
    const deadLetters = async () => {
      const out: { topic: string; offset: string; code: string }[] = [];
      await readToEnd(kafka, deadLetterTopic, (m) => {
        const h = headerStrings(m.headers);
        out.push({
          topic: h[DEAD_LETTER_HEADERS.sourceTopic],
          offset: h[DEAD_LETTER_HEADERS.sourceOffset],
          code: h[DEAD_LETTER_HEADERS.errorCode],
        });
      });
      return out;
    };
    const groups = [uniqueName('conf-group'), uniqueName('conf-group')];
    try {
      const { batches, expectedAfter } = fixtures(seed);
      const first = engine(groups[0]);
      await first.start();
      for (const batch of batches) await send(batch);
      await first.stop();
      const final = expectedAfter[expectedAfter.length - 1];
      expect(await state(await deadLetters())).toEqual(want(final));

      // A new group reads from the earliest offsets, but is moved to the stored ones: the old
      // records change nothing, the new ones land.
      const second = engine(groups[1]);
      await second.start();
      const lastThings = batches.filter((b) => b.stream === 'things').pop()!;
      const { batch, expected } = overlapping(seed, lastThings, final);
      await send({ stream: 'things', messages: batch.messages.slice(lastThings.messages.length) });
      await second.stop();
      expect(await state(await deadLetters())).toEqual(want(expected));
    } finally {
      await producer.disconnect();
      await admin.deleteGroups(groups).catch(() => undefined);
      await admin.deleteTopics({ topics: [...topics, deadLetterTopic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});

/** Rows by key → [key, row] sorted, each row with every field of `schema` (a missing one null). */
function fieldsOf(schema: AvroSchemaJson): Set<string> {
  return new Set((schema as { fields: { name: string }[] }).fields.map((f) => f.name));
}

function normalise(
  rows: ReadonlyMap<string, Record<string, unknown>>,
  schema: AvroSchemaJson,
): [string, Record<string, unknown>][] {
  const fields = (schema as { fields: { name: string }[] }).fields.map((f) => f.name);
  return [...rows]
    .map(([k, r]): [string, Record<string, unknown>] => [k, Object.fromEntries(fields.map((f) => [f, r[f] ?? null]))])
    .sort(([a], [b]) => (a < b ? -1 : 1));
}
