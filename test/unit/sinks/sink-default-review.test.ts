import { avroType, type AvroSchemaJson } from '../../../schemas/avro';
import { frame } from '../../../schemas/wire';
import type { WriteOp, WriterSchema } from '../../../sinks/port';
import { encodeRows } from '../../../sinks/postgres/encode-rows';
import { lineEncoder, type CopyTarget } from '../../../sinks/postgres/statements';
import { SinkTable } from '../../../sinks/postgres/table';

/**
 * Review (s11-sink, reviewing byte-exactness against the general path): a column the writer lacks
 * is written as its default, a constant the COPY reader (avro-copy.ts compile: the plan's strings,
 * joined when adjacent since s11) writes with CopyBytes#ascii, which stores each UTF-16 unit's low
 * byte. A default beyond ASCII (a newer schema's string default, or a boolean map default with a
 * non-ASCII key) must be its UTF-8 bytes, as lineEncoder (statements.ts) writes them:
 *   '本' (U+672C) -> 0x2C ',': valid UTF-8, PostgreSQL stores ',' silently;
 *   'ĉ' (U+0109) -> 0x09 TAB: one column too many, the COPY refused;
 *   'café' -> 0xE9: invalid UTF-8, the COPY refused (22021).
 * Deterministic (no seed): every case fails the same way. Pre-existing since 4ae0f69 (session 7).
 */
type RowOp = Extract<WriteOp, { value: unknown }>;

const OLD = {
  type: 'record',
  name: 'U',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'a', type: ['null', 'boolean'], default: null },
  ],
} as unknown as AvroSchemaJson;
const newer = (field: unknown) =>
  ({
    ...(OLD as object),
    fields: [
      ...(OLD as unknown as { fields: unknown[] }).fields,
      field,
      { name: 'b', type: ['null', 'boolean'], default: null },
    ],
  }) as unknown as AvroSchemaJson;

const CASES: [string, unknown][] = [
  ['a string default "本" (silently ",")', { name: 'note', type: 'string', default: '本' }],
  ['a string default "ĉ" (a tab)', { name: 'note', type: 'string', default: 'ĉ' }],
  ['a string default "café"', { name: 'note', type: 'string', default: 'café' }],
  ['a map default {"日": true}', { name: 'perms', type: { type: 'map', values: 'boolean' }, default: { 日: true } }],
];

describe('review s11-sink: a default beyond ASCII written for an older writer = lineEncoder', () => {
  for (const [what, field] of CASES)
    for (const target of ['stage', 'direct'] as CopyTarget[])
      it(`${target}: ${what}`, () => {
        const table = new SinkTable({ schema: 'public', name: 't' });
        table.absorb(OLD);
        table.absorb(newer(field));
        const type = avroType(OLD);
        const writer: WriterSchema = { id: 5, json: OLD, type, fields: new Set(['id', 'a']) };
        const value = { id: '005A', a: true };
        const op: RowOp = {
          kind: 'upsert',
          key: '005A',
          value,
          writer,
          source: { topic: 't', partition: 0, offset: '1', key: null, value: frame(5, type.toBuffer(value)) },
        };
        const want = lineEncoder(table, writer, target)(op);
        const got = encodeRows(table, [op], 1, target);
        expect(got && Buffer.concat(got.chunks).toString('hex')).toEqual(want && Buffer.from(want).toString('hex'));
      });
});
