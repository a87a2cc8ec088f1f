import { avroType, loadConnectorSchemas, type AvroSchemaJson } from '../../../schemas/avro';
import { frame } from '../../../schemas/wire';
import type { WriteOp, WriterSchema } from '../../../sinks/port';
import { encodeRows } from '../../../sinks/postgres/encode-rows';
import { lineEncoder } from '../../../sinks/postgres/statements';
import { SinkTable } from '../../../sinks/postgres/table';

/**
 * Review of s12-sink (avro-copy.ts copyString's fast condition `b > 92 || (b > 13 && b !== 92)`):
 * every code point 0..255 (so every UTF-8 byte 0x00-0x7f, 0xc2/0xc3 leads and 0x80-0xbf
 * continuations), a few beyond (3- and 4-byte sequences), alone and next to each other, in every
 * string column of the users schema: the COPY text read from the Avro bytes equals copyValue's
 * (statements.ts lineEncoder, which escapes exactly \ TAB LF CR), for both targets. Deterministic.
 */
type Json = Record<string, unknown>;
type RowOp = Extract<WriteOp, { value: unknown }>;

it('copyString escapes exactly what copyValue escapes, for every code point 0..255 and beyond', () => {
  const schema = loadConnectorSchemas().userValue;
  const json = schema as Json;
  const writer: WriterSchema = {
    id: 4242,
    json: schema,
    type: avroType(schema),
    fields: new Set((json.fields as Json[]).map((f) => f.name as string)),
  };
  const table = new SinkTable({ schema: 'public', name: 't' });
  table.absorb(schema as AvroSchemaJson);
  const fields = json.fields as Json[];
  const isString = (t: unknown) => t === 'string' || (Array.isArray(t) && t.includes('string'));
  const base = (i: number): Json => {
    const record: Json = {};
    for (const f of fields) {
      const t = f.type as unknown;
      if (Array.isArray(t) && t.includes('null')) record[f.name as string] = null;
      else if (f.default !== undefined) record[f.name as string] = f.default;
      else if (t === 'string') record[f.name as string] = 'x';
      else if (t === 'boolean') record[f.name as string] = false;
      else if (t === 'long' || t === 'double' || (t as Json)?.type === 'long') record[f.name as string] = 0;
      else if ((t as Json)?.type === 'map') record[f.name as string] = {};
      else if ((t as Json)?.type === 'enum') record[f.name as string] = ((t as Json).symbols as string[])[0];
    }
    record.id = `005${String(i).padStart(15, '0')}`;
    return record;
  };
  const samples: string[] = [];
  for (let c = 0; c < 256; c++) samples.push(String.fromCharCode(c), `a${String.fromCharCode(c)}b`);
  samples.push(Array.from({ length: 256 }, (_, c) => String.fromCharCode(c)).join(''));
  samples.push('\u0100', '\u07ff', '\u0800', '\uffff', '😀', '\\\\N', '\r\n\t\\');
  const stringFields = fields.filter((f) => isString(f.type) && f.name !== 'id').map((f) => f.name as string);
  expect(stringFields.length).toBeGreaterThan(0);
  const ops: RowOp[] = [];
  let i = 0;
  for (const s of samples) {
    const record = base(i);
    for (const name of stringFields) record[name] = s;
    const value = frame(writer.id, writer.type.toBuffer(record));
    const decoded = writer.type.fromBuffer(value.subarray(5)) as Json;
    const source = { topic: 't', partition: 0, offset: String(i), key: null, value };
    ops.push({ kind: 'upsert', key: String(record.id), value: decoded, writer, source });
    i++;
  }
  for (const target of ['stage', 'direct'] as const) {
    const encode = lineEncoder(table, writer, target);
    const want = ops.map((op) => Buffer.from(encode(op)!).toString('latin1'));
    const got = encodeRows(table, ops, 1, target)!.chunks.map((b) => b.toString('latin1'));
    for (let k = 0; k < ops.length; k++)
      if (got[k] !== want[k])
        expect({ target, sample: JSON.stringify(samples[k]), got: got[k] }).toEqual({
          target,
          sample: JSON.stringify(samples[k]),
          got: want[k],
        });
  }
});
