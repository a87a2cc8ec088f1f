import avro from 'avsc';
import type { KafkaMessage } from 'kafkajs';
import type { AvroSchemaJson } from '../../../../schemas/avro';
import { declareStream } from '../../../../schemas/streams/types';
import { frame } from '../../../../schemas/wire';
import { mulberry32 } from '../../../../simulator/prng';

/**
 * The conformance fixtures: two streams declared here (an upsert stream of "things" and an
 * append stream of "events" whose rows go with a deleted thing), a seeded sequence of batches
 * covering upserts, updates, tombstones, appends, duplicates, unicode and quotes, nulls, a
 * schema version adding a field, malformed records and a tombstone on the append stream; and
 * the state every sink must end in, folded from the fixtures alone (never read from a sink).
 */

export const THING_V1: AvroSchemaJson = {
  type: 'record',
  name: 'Thing',
  namespace: 'test.conformance',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'count', type: 'int' },
    { name: 'active', type: 'boolean' },
  ],
};
/** A newer version: one field added, with a default (what older writers' records get once the field is known). */
export const THING_V2: AvroSchemaJson = {
  ...(THING_V1 as object),
  fields: [...(THING_V1 as { fields: object[] }).fields, { name: 'tier', type: 'string', default: 'basic' }],
} as AvroSchemaJson;
export const EVENT: AvroSchemaJson = {
  type: 'record',
  name: 'Event',
  namespace: 'test.conformance',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'thingId', type: 'string' },
    { name: 'seq', type: 'int' },
    { name: 'text', type: ['null', 'string'], default: null },
  ],
};

export const IDS = { key: 1, thingV1: 2, thingV2: 3, event: 4 } as const;
export const SCHEMAS = new Map<number, AvroSchemaJson>([
  [IDS.key, 'string'],
  [IDS.thingV1, THING_V1],
  [IDS.thingV2, THING_V2],
  [IDS.event, EVENT],
]);

export const THINGS = declareStream({
  name: 'things',
  object: 'Thing__c',
  api: 'rest',
  mode: { kind: 'snapshot' },
  mapping: 'mapping/thing.csv',
  valueSchema: 'avro/thing-value.avsc',
  topic: { defaultName: 'conformance.things', compacted: true },
  key: 'Id',
  sink: { table: 'conformance_things', write: 'upsert', indexes: [['name'], ['count', 'active']] },
});
export const EVENTS = declareStream({
  name: 'events',
  object: 'Event__c',
  api: 'rest',
  mode: { kind: 'incremental', watermarkField: 'CreatedDate' },
  mapping: 'mapping/event.csv',
  valueSchema: 'avro/event-value.avsc',
  topic: { defaultName: 'conformance.events', compacted: false },
  key: 'Id',
  sink: { table: 'conformance_events', write: 'append', indexes: [['thingId']] },
});
/** A deleted thing takes its events with it (as onUserRemoved: delete-logins does for users). */
export const CASCADES = [{ from: 'things', to: 'events', field: 'thingId' }] as const;

type Row = Record<string, unknown>;

/** One fixture record: a value (encoded with `schema`), a tombstone, or raw bytes that are not Avro. */
interface Fixture {
  key: string;
  value: Row | null | Buffer;
  schema?: number;
}

export interface FixtureBatch {
  stream: 'things' | 'events';
  messages: KafkaMessage[];
}

export interface Expected {
  things: Map<string, Row>;
  events: Map<string, Row>;
  /** [stream, offset, error code], sorted. */
  deadLetters: [string, string, string][];
}

const ODD = [
  'plain',
  "O'Brien",
  'say "hi"',
  'Zoë Ünal',
  '漢字テスト',
  'tab\there',
  'line\nbreak',
  'back\\slash',
  '🙂 emoji',
  '',
];

/** The seeded fixture batches, and the state after each (index i: after batches[0..i]). */
export function fixtures(seed: number): { batches: FixtureBatch[]; expectedAfter: Expected[] } {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const thingKey = () => `a0T${Math.floor(rnd() * 12)}`;
  const thing = (key: string, v2: boolean): Fixture => ({
    key,
    schema: v2 ? IDS.thingV2 : IDS.thingV1,
    value: {
      id: key,
      name: `${pick(ODD)}${Math.floor(rnd() * 100)}`,
      note: rnd() < 0.4 ? null : pick(ODD),
      count: Math.floor(rnd() * 2000) - 1000,
      active: rnd() < 0.5,
      ...(v2 ? { tier: pick(['gold', 'silver', 'basic', "it's"]) } : {}),
    },
  });
  let seq = 0;
  const event = (key: string, thingId: string): Fixture => ({
    key,
    schema: IDS.event,
    value: { id: key, thingId, seq: seq++, text: rnd() < 0.3 ? null : pick(ODD) },
  });
  const eventKey = () => `e${Math.floor(rnd() * 40)}`;
  const n = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

  const plan: { stream: FixtureBatch['stream']; records: Fixture[] }[] = [];
  // 1. the initial load into empty tables: upserts, keys twice in the batch, tombstones (of keys
  //    earlier in the batch or never seen), a record that is not Avro, an empty id.
  plan.push({
    stream: 'things',
    records: [
      ...Array.from({ length: n(8, 20) }, () =>
        rnd() < 0.15 ? { key: thingKey(), value: null } : thing(thingKey(), false),
      ),
      { key: thingKey(), value: Buffer.from('not avro') },
      thing('', false),
    ],
  });
  // 2. appends with repeated ids (the first is kept) and a tombstone (an append cannot be deleted).
  plan.push({
    stream: 'events',
    records: [
      ...Array.from({ length: n(8, 20) }, () => event(eventKey(), thingKey())),
      { key: eventKey(), value: null },
    ],
  });
  // 3. updates and tombstones.
  plan.push({
    stream: 'things',
    records: Array.from({ length: n(8, 20) }, () =>
      rnd() < 0.3 ? { key: thingKey(), value: null } : thing(thingKey(), false),
    ),
  });
  // 4. schema evolution: a newer writer adds a field; older writers go on in the same batch.
  plan.push({
    stream: 'things',
    records: [thing(thingKey(), true), ...Array.from({ length: n(6, 15) }, () => thing(thingKey(), rnd() < 0.5))],
  });
  // 5. more appends, some for deleted things.
  plan.push({ stream: 'events', records: Array.from({ length: n(5, 15) }, () => event(eventKey(), thingKey())) });
  // 6. tombstones (their events go with them) mixed with older writers.
  plan.push({
    stream: 'things',
    records: Array.from({ length: n(5, 12) }, () =>
      rnd() < 0.6 ? { key: thingKey(), value: null } : thing(thingKey(), false),
    ),
  });

  // 7. a replay into the filled tables: records applied before, published again at new offsets
  //    (a full republish: most rows unchanged), with a few new versions.
  const republished = (from: number[]) =>
    plan
      .filter((_, i) => from.includes(i))
      .flatMap((b) => b.records.filter((r) => r.value === null || !Buffer.isBuffer(r.value)));
  plan.push({
    stream: 'things',
    records: [...republished([3, 5]), ...Array.from({ length: n(1, 4) }, () => thing(thingKey(), rnd() < 0.5))],
  });
  // 8. login events again: the first stored version stays.
  plan.push({ stream: 'events', records: republished([1, 4]).filter((r) => r.value !== null) });
  // 9. a thing deleted and written again in ONE batch (a user removed and back before the sink
  //    read either record): its events go, as they would with the two records in two batches.
  const back = thingKey();
  plan.push({ stream: 'events', records: [event(`e${40 + n(0, 9)}`, back), event(eventKey(), thingKey())] });
  plan.push({
    stream: 'things',
    records: [
      thing(back, false),
      { key: back, value: null },
      ...Array.from({ length: n(0, 4) }, () =>
        rnd() < 0.5 ? { key: thingKey(), value: null } : thing(thingKey(), false),
      ),
      thing(back, rnd() < 0.5),
    ],
  });

  const offsets = { things: 0, events: 0 };
  const state: Expected = { things: new Map(), events: new Map(), deadLetters: [] };
  const known = { things: new Set(fieldNames(THING_V1)), events: new Set(fieldNames(EVENT)) };
  const defaults = { things: defaultsOf(THING_V2), events: defaultsOf(EVENT) };
  const batches: FixtureBatch[] = [];
  const expectedAfter: Expected[] = [];
  for (const { stream, records } of plan) {
    const messages = records.map((r) => ({ ...toMessage(r), offset: String(offsets[stream]++) }) as KafkaMessage);
    batches.push({ stream, messages });
    foldBatch(state, stream, records, messages, known, defaults);
    expectedAfter.push(copy(state));
  }
  return { batches, expectedAfter };
}

/** More records after the last batch, for the partly replayed batch: [old messages…, new ones…]. */
export function overlapping(
  seed: number,
  last: FixtureBatch,
  before: Expected,
): { batch: FixtureBatch; expected: Expected } {
  const rnd = mulberry32(seed ^ 0x5bd1e995);
  const next = Number(last.messages[last.messages.length - 1].offset) + 1;
  const records: Fixture[] = Array.from({ length: 3 }, (_, i) => {
    const key = `a0T${Math.floor(rnd() * 12)}`;
    const value = { id: key, name: `again ${i} «ü»`, note: null, count: i, active: true };
    return { key, schema: IDS.thingV1, value };
  });
  const fresh = records.map((r, i) => ({ ...toMessage(r), offset: String(next + i) }) as KafkaMessage);
  const state = copy(before);
  foldBatch(
    state,
    'things',
    records,
    fresh,
    { things: new Set([...fieldNames(THING_V2)]), events: new Set(fieldNames(EVENT)) },
    { things: defaultsOf(THING_V2), events: defaultsOf(EVENT) },
  );
  return { batch: { stream: last.stream, messages: [...last.messages, ...fresh] }, expected: state };
}

/** What a sink must hold after one batch, from the records alone (the port's promises as a fold). */
function foldBatch(
  state: Expected,
  stream: FixtureBatch['stream'],
  records: readonly Fixture[],
  messages: readonly KafkaMessage[],
  known: { things: Set<string>; events: Set<string> },
  defaults: { things: Row; events: Row },
): void {
  const good: { key: string; value: Row | null; schema?: number }[] = [];
  records.forEach((r, i) => {
    const offset = messages[i].offset;
    if (Buffer.isBuffer(r.value)) return void state.deadLetters.push([stream, offset, 'WIRE_FORMAT_INVALID']);
    if (r.value === null && stream === 'events')
      return void state.deadLetters.push([stream, offset, 'UNEXPECTED_TOMBSTONE']);
    if (r.key === '' && r.value !== null)
      return void state.deadLetters.push([stream, offset, 'DB_CONSTRAINT_VIOLATION']);
    good.push({ key: r.key, value: r.value, schema: r.schema });
  });
  // A newer writer met anywhere in the batch is known before the batch is written.
  for (const g of good) if (g.schema === IDS.thingV2) for (const f of fieldNames(THING_V2)) known[stream].add(f);
  const rows = state[stream];
  const deleted: string[] = [];
  if (stream === 'things') {
    // Last change per key wins.
    const last = new Map<string, (typeof good)[number]>();
    for (const g of good) {
      last.delete(g.key);
      last.set(g.key, g);
      // Record by record: a tombstone removes the row and its events, whatever follows in the batch.
      if (g.value === null && !deleted.includes(g.key)) deleted.push(g.key);
    }
    for (const g of last.values()) {
      if (deleted.includes(g.key)) rows.delete(g.key);
      if (g.value !== null) rows.set(g.key, rowOf(g.value, g.schema!, known[stream], defaults[stream]));
    }
    for (const [k, e] of state.events) if (deleted.includes(e.thingId as string)) state.events.delete(k);
  } else {
    for (const g of good)
      if (!rows.has(g.key)) rows.set(g.key, rowOf(g.value!, g.schema!, known[stream], defaults[stream]));
  }
  state.deadLetters.sort((a, b) => (a.join() < b.join() ? -1 : 1));
}

function rowOf(value: Row, schema: number, known: ReadonlySet<string>, defaults: Row): Row {
  const writerFields = new Set(fieldNames(SCHEMAS.get(schema)!));
  const row: Row = {};
  for (const f of known) row[f] = writerFields.has(f) ? (value[f] ?? null) : (defaults[f] ?? null);
  return row;
}

function toMessage(r: Fixture): Pick<KafkaMessage, 'key' | 'value' | 'headers'> {
  const key = frame(IDS.key, avro.Type.forSchema('string').toBuffer(r.key));
  if (r.value === null) return { key, value: null, headers: {} };
  if (Buffer.isBuffer(r.value)) return { key, value: r.value, headers: {} };
  return {
    key,
    value: frame(r.schema!, avro.Type.forSchema(SCHEMAS.get(r.schema!) as avro.Schema).toBuffer(r.value)),
    headers: {},
  };
}

function fieldNames(schema: AvroSchemaJson): string[] {
  return (schema as { fields: { name: string }[] }).fields.map((f) => f.name);
}

function defaultsOf(schema: AvroSchemaJson): Row {
  return Object.fromEntries(
    (schema as { fields: { name: string; default?: unknown }[] }).fields.map((f) => [f.name, f.default ?? null]),
  );
}

function copy(e: Expected): Expected {
  const rows = (m: Map<string, Row>) => new Map([...m].map(([k, v]) => [k, { ...v }]));
  return {
    things: rows(e.things),
    events: rows(e.events),
    deadLetters: e.deadLetters.map((d) => [...d] as [string, string, string]),
  };
}
