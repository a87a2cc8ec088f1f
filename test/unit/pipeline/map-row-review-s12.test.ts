import { createRowMapper } from '../../../pipeline/stages/map-row';
import type { Mapping, MappingRow } from '../../../schemas/mapping';
import { shapeBuilder } from '../../../kernel/fixed-shape';
import { ctx } from './helpers';

/**
 * Review of map-row's generated reader (columnReader, `new Function` of JSON-quoted column names).
 * Pin (passes): no mapping file's sourceField runs as code, whatever it holds (a quote breaking out,
 * a line or paragraph separator, a comment, a template, a lone surrogate, a JS keyword), and every
 * such column's value is read; with 3,000 columns too.
 */
const EVIL = [
  '"]; globalThis.__pwned = 1; //',
  "'); globalThis.__pwned = 1; ('",
  '\\"]; globalThis.__pwned = 1; //',
  'a\u2028globalThis.__pwned = 1;//',
  'a\u2029globalThis.__pwned = 1;//',
  '*/ globalThis.__pwned = 1; /*',
  '${globalThis.__pwned = 1}',
  '`; globalThis.__pwned = 1; `',
  '\ud800"]; globalThis.__pwned = 1; //',
  '</script>',
  'return',
  'class',
  'constructor',
  'hasOwnProperty',
  '-1',
  '1e3',
];

const row = (sourceField: string, target: string): MappingRow => ({
  sourceObject: 'User',
  sourceField,
  target,
  type: 'string',
  required: false,
  notes: '',
});

it('no column name runs as code; each is read as a name', () => {
  const g = globalThis as { __pwned?: number };
  delete g.__pwned;
  const columns = ['Id', ...EVIL];
  const mapping: Mapping = { rows: columns.map((c, i) => row(c, `t${i}`)) };
  const mapper = createRowMapper(mapping, 'User');
  const values = columns.map((_, i) => `v${i}`);
  for (const input of [
    shapeBuilder<Record<string, string>>(columns)(values),
    Object.fromEntries(columns.map((c, i) => [c, values[i]])),
  ]) {
    const res = mapper(input, ctx);
    expect(res.ok).toBe(true);
    if (res.ok) expect(columns.map((_, i) => res.record[`t${i}`])).toEqual(values);
  }
  expect(g.__pwned).toBeUndefined();
});

it('3,000 columns, some absent from the row', () => {
  const columns = Array.from({ length: 3000 }, (_, i) => (i === 0 ? 'Id' : `F${i}__c`));
  const mapper = createRowMapper({ rows: columns.map((c, i) => row(c, `t${i}`)) }, 'User');
  const input: Record<string, string> = {};
  columns.forEach((c, i) => {
    if (i % 7 !== 3) input[c] = `v${i}`;
  });
  const res = mapper(input, ctx);
  expect(res.ok).toBe(true);
  if (res.ok)
    expect(columns.map((_, i) => res.record[`t${i}`])).toEqual(columns.map((_, i) => (i % 7 === 3 ? null : `v${i}`)));
});
