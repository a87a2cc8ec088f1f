import { createRowMapper } from '../../../pipeline/stages/map-row';
import type { Mapping, MappingRow } from '../../../schemas/mapping';
import { shapeBuilder } from '../../../kernel/fixed-shape';
import { mulberry32 } from '../../../simulator/prng';
import { createRowMapper as byName } from './fixtures/map-row-by-name';
import { ctx } from './helpers';

/**
 * The row mapper reads each mapping row's column through one generated function of constant-name
 * loads (map-row.ts columnReader) instead of `row[field]` in each closure. Same results as the
 * mapper before (fixtures/map-row-by-name.ts, kept verbatim) for column names that are awkward in
 * code (quotes, backslashes, line separators, `${`, `__proto__`, numeric names, a name of
 * Object.prototype), for rows that lack columns, have empty or refused values, as plain objects or
 * compiled shapes, and for an inherited value (a row whose prototype holds a column).
 * Seeded: MAP_ROW_SEED=n replays.
 */
const SEED = Number(process.env.MAP_ROW_SEED ?? Math.floor(Math.random() * 2 ** 31));

const ODD = ['Id', 'a"b', "c'd", 'e\\f', 'g\nh', 'i\u2028j', '${k}', '__proto__', '0', '12', 'toString', 'x.y', 'Zé本'];
const TYPES = ['string', 'boolean', 'int', 'long', 'double', 'timestamp-millis', 'date'] as const;
const VALUES: Record<string, string[]> = {
  string: ['', 'abc', 'é本', 'x'.repeat(40)],
  boolean: ['', 'true', 'false', 'yes'],
  int: ['', '12', '-3', '1.5', 'zz', '99999999999'],
  long: ['', '12', '-3', '1e3'],
  double: ['', '1.5', 'NaN', '-0', 'x'],
  'timestamp-millis': ['', '2024-05-01T10:00:00.000Z', '2024-02-30T10:00:00.000Z', 'x'],
  date: ['', '2024-05-01', '2024-13-01'],
};

function row(sourceField: string, target: string, type: MappingRow['type'], required = false): MappingRow {
  return { sourceObject: 'User', sourceField, target, type, required, notes: '' };
}

it(`reads the same values as the mapper by name, for any column names and rows (MAP_ROW_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (k: number) => Math.floor(rnd() * k);
  for (let m = 0; m < 40; m++) {
    const columns = ODD.filter(() => int(3) > 0);
    if (!columns.includes('Id')) columns.unshift('Id');
    const types = columns.map((c) => (c === 'Id' ? 'string' : TYPES[int(TYPES.length)]));
    const rows: MappingRow[] = columns.map((c, i) => row(c, `t${i}`, types[i], c === 'Id' || int(6) === 0));
    rows.push(row('Id', 'url', 'record-url'));
    rows.push({
      sourceObject: 'Connector',
      sourceField: 'runId',
      target: 'run',
      type: 'string',
      required: true,
      notes: '',
    });
    rows.push({
      sourceObject: 'LoginHistory',
      sourceField: 'Browser',
      target: 'b',
      type: 'string',
      required: false,
      notes: '',
    });
    const mapping: Mapping = { rows };
    const ours = createRowMapper(mapping, 'User');
    const theirs = byName(mapping, 'User');
    for (let r = 0; r < 60; r++) {
      // a column of the mapping may be absent from the row (a field this org lacks)
      const present = columns.filter(() => int(8) > 0);
      const values = present.map((c) => {
        const vs = VALUES[types[columns.indexOf(c)]];
        return vs[int(vs.length)];
      });
      const shape = int(3);
      let input: Record<string, string>;
      if (shape === 0) input = shapeBuilder<Record<string, string>>(present)(values);
      else if (shape === 1) {
        input = {};
        present.forEach((c, i) => Object.defineProperty(input, c, { value: values[i], enumerable: true }));
      } else {
        // an inherited value: the prototype holds one column
        const proto: Record<string, string> = {};
        const o = Object.create(proto) as Record<string, string>;
        present.forEach((c, i) =>
          i === 1
            ? Object.defineProperty(proto, c, { value: values[i], enumerable: true })
            : Object.defineProperty(o, c, { value: values[i], enumerable: true }),
        );
        input = o;
      }
      const a = ours(input, ctx);
      const b = theirs(input, ctx);
      expect([m, r, a.ok, a.ok ? JSON.stringify(Object.entries(a.record)) : a.error]).toEqual([
        m,
        r,
        b.ok,
        b.ok ? JSON.stringify(Object.entries(b.record)) : b.error,
      ]);
    }
  }
});
