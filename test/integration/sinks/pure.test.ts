import { FatalError, RecordError, RetriableError } from '../../../kernel/errors';
import { classifyDbError, isDataError } from '../../../sinks/postgres/classify';
import { collapseInserts, collapseUpserts, type DecodedRecord } from '../../../sinks/engine/collapse';
import { fieldColumns } from '../../../sinks/postgres/columns';
import { copyValue } from '../../../sinks/postgres/copy';
import { columnName, objectName } from '../../../sinks/postgres/sql';
import { loadConnectorSchemas } from '../../../schemas/avro';

/** The sink's pure parts, as tables of inputs and outputs (they need no server). */
describe('sink: pure parts', () => {
  const pgError = (code: string) => Object.assign(new Error(`pg says ${code}`), { code });

  it.each([
    ['08006', RetriableError, 'DB_CONNECTION_LOST'],
    ['08001', RetriableError, 'DB_CONNECTION_LOST'],
    ['40001', RetriableError, 'DB_SERIALIZATION_FAILURE'],
    ['40P01', RetriableError, 'DB_SERIALIZATION_FAILURE'],
    ['57P01', RetriableError, 'DB_RESTARTING'],
    ['57P03', RetriableError, 'DB_RESTARTING'],
    ['53300', RetriableError, 'DB_BUSY'],
    ['22021', RecordError, 'DB_DATA_INVALID'],
    ['22008', RecordError, 'DB_DATA_INVALID'],
    ['23514', RecordError, 'DB_CONSTRAINT_VIOLATION'],
    ['28P01', FatalError, 'DB_AUTH_FAILED'],
    ['3D000', FatalError, 'DB_NOT_FOUND'],
    ['42703', FatalError, 'DB_ERROR'],
  ])('SQLSTATE %s is %p (%s)', (code, cls, ours) => {
    const err = classifyDbError(pgError(code));
    expect(err).toBeInstanceOf(cls);
    expect(err.code).toBe(ours);
    expect(isDataError(err)).toBe(cls === RecordError);
  });

  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    [Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })],
    [new Error('Connection terminated unexpectedly')],
    [new Error('timeout exceeded when trying to connect')],
  ])('a lost connection is retriable: %s', (raw) => {
    expect(classifyDbError(raw)).toMatchObject({ code: 'DB_CONNECTION_LOST', retriable: true });
  });

  it('maps Avro fields to columns and types', () => {
    const cols = new Map(fieldColumns(loadConnectorSchemas().userValue).map((c) => [c.field, c]));
    expect([...cols.values()].map((c) => c.column)).toContain('user_role_developer_name');
    expect(
      ['id', 'isActive', 'status', 'createdAt', 'latitude', 'preferences'].map((f) => [
        cols.get(f)!.column,
        cols.get(f)!.pgType,
      ]),
    ).toEqual([
      ['id', 'text'],
      ['is_active', 'boolean'],
      ['status', 'text'],
      ['created_at', 'timestamptz'],
      ['latitude', 'double precision'],
      ['preferences', 'jsonb'],
    ]);
    expect(cols.get('latitude')!.toJson(Number.NaN)).toBe('NaN');
    expect(columnName('URLValue')).toBe('url_value');
    expect(objectName('t'.repeat(60), 'manager_id_idx')).toHaveLength(63);
  });

  const rec = (key: string, value: Record<string, unknown> | null, offset: number): DecodedRecord => ({
    decoded: { key, value, writer: value ? ({ id: 1 } as never) : undefined },
    source: { topic: 't', partition: 0, offset: String(offset), key: null, value: null },
  });

  it('collapses users per key in Kafka order, the last one winning (deletes included)', () => {
    const ops = collapseUpserts([
      rec('a', { v: 1 }, 0),
      rec('b', { v: 1 }, 1),
      rec('a', null, 2),
      rec('c', null, 3),
      rec('a', { v: 3 }, 4),
      rec('b', null, 5),
    ]);
    expect(ops.map((o) => [o.key, o.kind, o.source.offset, o.kind === 'delete' ? '-' : o.deletedAt])).toEqual([
      ['c', 'delete', '3', '-'],
      ['a', 'upsert', '4', '2'], // tombstoned at 2: the store deletes (and cascades) before the upsert
      ['b', 'delete', '5', '-'],
    ]);
    const again = collapseUpserts([
      rec('d', null, 0),
      rec('d', { v: 1 }, 1),
      rec('d', { v: 2 }, 2),
      rec('e', { v: 1 }, 3),
    ]);
    expect(again.map((o) => [o.key, o.kind === 'delete' ? '-' : o.deletedAt])).toEqual([
      ['d', '0'],
      ['e', undefined],
    ]);
  });

  it('keeps the first login event per id', () => {
    const ops = collapseInserts([rec('x', { v: 1 }, 0), rec('y', { v: 1 }, 1), rec('x', { v: 2 }, 2)]);
    expect(ops.map((o) => [o.key, o.source.offset])).toEqual([
      ['x', '0'],
      ['y', '1'],
    ]);
  });

  it.each([
    ['text', null, '\\N'],
    ['text', 'tab\there\nnew\\line\r', 'tab\\there\\nnew\\\\line\\r'],
    ['boolean', false, 'f'],
    ['jsonb', { a: 'x\ty' }, '{"a":"x\\\\ty"}'],
    ['double precision', 'NaN', 'NaN'],
    ['bigint', 1_700_000_000_000, '1700000000000'],
  ])('COPY text of %s %p is %p', (type, value, text) => {
    expect(copyValue(type, value)).toBe(text);
  });
});
