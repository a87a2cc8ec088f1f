import avro from 'avsc';
import { RecordError } from '../../../kernel/errors';
import { decodeFramed, encodeFramed, frame, resolverFor, unframe } from '../../../schemas/wire';

const v1 = avro.Type.forSchema({ type: 'record', name: 'T', fields: [{ name: 'id', type: 'string' }] });
const v2 = avro.Type.forSchema({
  type: 'record',
  name: 'T',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'nickname', type: ['null', 'string'], default: null },
  ],
});

describe('Confluent wire format', () => {
  const framing: [number, string, string][] = [
    [1, '', '0000000001'],
    [42, '02', '000000002a02'],
    [0x7fffffff, 'ff', '007fffffffff'],
    [256, 'abcd', '0000000100abcd'],
  ];
  test.each(framing)('schema id %d, body %s -> %s', (id, body, hex) => {
    const framed = frame(id, Buffer.from(body, 'hex'));
    expect(framed.toString('hex')).toBe(hex);
    expect(unframe(framed)).toEqual({ schemaId: id, body: Buffer.from(body, 'hex') });
  });

  test.each([-1, 1.5, 2 ** 31])('schema id %d is refused', (id) => {
    expect(() => frame(id, Buffer.alloc(0))).toThrow(RangeError);
  });

  test.each([
    ['empty', ''],
    ['too short', '000000'],
    ['wrong magic byte', '0100000001'],
    ['plain JSON', Buffer.from('{"id":1}').toString('hex')],
  ])('%s message -> RecordError WIRE_FORMAT_INVALID', (_name, hex) => {
    expect(() => unframe(Buffer.from(hex, 'hex'))).toThrow(expect.objectContaining({ code: 'WIRE_FORMAT_INVALID' }));
  });

  test('encode: hand-derived bytes of a one-field record', () => {
    // 00 | 00000007 | 06 = zigzag(3) | "abc"
    expect(encodeFramed(v1, 7, { id: 'abc' }).toString('hex')).toBe('0000000007' + '06' + '616263');
  });

  test('encode: a value that does not fit is a RecordError naming the path', () => {
    const err = (() => {
      try {
        encodeFramed(v2, 1, { id: 'x', nickname: 5 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RecordError);
    expect(err).toMatchObject({ code: 'RECORD_SCHEMA_MISMATCH', field: 'nickname' });
  });

  test('decode: a body that is not the schema is a RecordError', () => {
    expect(() => decodeFramed(v2, frame(1, Buffer.from('ff', 'hex')))).toThrow(
      expect.objectContaining({ code: 'RECORD_UNDECODABLE' }),
    );
  });

  test('evolution (avsc resolvers): v1 reader reads v2 data, v2 reader reads v1 data', () => {
    const written2 = encodeFramed(v2, 2, { id: 'a', nickname: 'ace' });
    const written1 = encodeFramed(v1, 1, { id: 'b' });
    expect(decodeFramed(v1, written2, { writer: v2, resolver: resolverFor(v1, v2) }).value).toEqual({ id: 'a' });
    const fromV1 = { writer: v1, resolver: resolverFor(v2, v1) };
    expect(decodeFramed(v2, written1, fromV1).value).toEqual({ id: 'b', nickname: null });
    expect(
      resolverFor(v1, avro.Type.forSchema({ type: 'record', name: 'T', fields: [{ name: 'id', type: 'string' }] })),
    ).toBeUndefined();
  });
});
