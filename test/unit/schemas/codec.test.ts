import avro from 'avsc';
import { createTopicCodec, type WriterSchemas } from '../../../schemas/codec';
import { encodeFramed } from '../../../schemas/wire';

const v1 = { type: 'record' as const, name: 'T', fields: [{ name: 'id', type: 'string' }] };
const v2 = { ...v1, fields: [...v1.fields, { name: 'nickname', type: ['null', 'string'], default: null }] };
const incompatible = { type: 'record' as const, name: 'T', fields: [{ name: 'id', type: 'long' }] };

/** A registry stand-in that knows ids 1 (v1), 2 (v2), 3 (incompatible) and counts look-ups. */
function writers(): WriterSchemas & { lookups: number[] } {
  const byId: Record<number, object> = { 1: v1, 2: v2, 3: incompatible };
  const lookups: number[] = [];
  return {
    lookups,
    typeOf: async (id) => {
      lookups.push(id);
      if (!byId[id]) throw new Error(`Schema ${id} not found`);
      return avro.Type.forSchema(byId[id] as avro.Schema);
    },
  };
}

const registered = (keyId: number, valueId: number) => ({
  topic: 't',
  key: { subject: 't-key', id: keyId, compatibility: 'BACKWARD' as const },
  value: { subject: 't-value', id: valueId, compatibility: 'BACKWARD' as const },
});

describe('TopicCodec', () => {
  test('encodes key and value with the registered ids and decodes them back without a look-up', async () => {
    const w = writers();
    const codec = createTopicCodec(registered(9, 1), { topic: 't', key: 'string', value: v1 }, w);
    expect(codec.encodeKey('005').toString('hex')).toBe('0000000009' + '06' + '303035');
    expect(await codec.decodeKey(codec.encodeKey('005'))).toBe('005');
    expect(await codec.decodeValue(codec.encodeValue({ id: 'a' }))).toEqual({ id: 'a' });
    expect(w.lookups).toEqual([]);
  });

  test('a v2 consumer decodes records written with v1 (fetching v1 once)', async () => {
    const w = writers();
    const codec = createTopicCodec(registered(9, 2), { topic: 't', key: 'string', value: v2 }, w);
    const old = encodeFramed(avro.Type.forSchema(v1), 1, { id: 'a' });
    expect(await codec.decodeValue(old)).toEqual({ id: 'a', nickname: null });
    expect(await codec.decodeValue(old)).toEqual({ id: 'a', nickname: null });
    expect(w.lookups).toEqual([1]);
  });

  test('a v1 consumer decodes records written with v2', async () => {
    const codec = createTopicCodec(registered(9, 1), { topic: 't', key: 'string', value: v1 }, writers());
    expect(await codec.decodeValue(encodeFramed(avro.Type.forSchema(v2), 2, { id: 'a', nickname: 'x' }))).toEqual({
      id: 'a',
    });
  });

  test('an incompatible writer schema is a RecordError, not a crash', async () => {
    const codec = createTopicCodec(registered(9, 1), { topic: 't', key: 'string', value: v1 }, writers());
    await expect(
      codec.decodeValue(encodeFramed(avro.Type.forSchema(incompatible), 3, { id: 1 })),
    ).rejects.toMatchObject({ code: 'RECORD_UNDECODABLE' });
  });

  test('an encode of a bad value is a RecordError', () => {
    const codec = createTopicCodec(registered(9, 1), { topic: 't', key: 'string', value: v1 }, writers());
    expect(() => codec.encodeValue({ id: 7 })).toThrow(
      expect.objectContaining({ code: 'RECORD_SCHEMA_MISMATCH', field: 'id' }),
    );
  });
});
