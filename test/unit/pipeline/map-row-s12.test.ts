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
 * Seeded: MAP_ROW_SEED=n replays. One difference, on purpose: a column the row lacks whose name is
 * an Object.prototype member ('toString', '__proto__') is absent for ours, where the mapper by name
 * read the inherited function or object (and failed on it: MAP_ROW_SEED=1027055068); the oracle
 * gets the row's enumerable columns only, which is what a Bulk CSV row holds.
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

/** `input`'s enumerable columns, own and inherited from the test's prototype, on no prototype at all. */
function ownAndEnumerable(input: Record<string, string>): Record<string, string> {
  const plain = Object.create(null) as Record<string, string>;
  for (const k in input) Object.defineProperty(plain, k, { value: input[k], enumerable: true });
  return plain;
}

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
      const b = theirs(ownAndEnumerable(input), ctx);
      expect([m, r, a.ok, a.ok ? JSON.stringify(Object.entries(a.record)) : a.error]).toEqual([
        m,
        r,
        b.ok,
        b.ok ? JSON.stringify(Object.entries(b.record)) : b.error,
      ]);
    }
  }
});

it('reads a column named like an Object.prototype member as absent when the row lacks it', () => {
  for (const name of ['toString', '__proto__', 'constructor', 'valueOf', 'hasOwnProperty']) {
    for (const type of TYPES) {
      const mapping: Mapping = { rows: [row('Id', 'id', 'string', true), row(name, 'odd', type)] };
      expect([name, type, createRowMapper(mapping, 'User')({ Id: 'x' }, ctx)]).toEqual([
        name,
        type,
        { ok: true, record: { id: 'x', odd: null } },
      ]);
      const strict: Mapping = { rows: [row('Id', 'id', 'string', true), row(name, 'odd', type, true)] };
      const result = createRowMapper(strict, 'User')({ Id: 'x' }, ctx);
      expect([name, type, !result.ok && result.error.message]).toEqual([
        name,
        type,
        `${name} -> odd: required column is missing (value missing)`,
      ]);
    }
  }
});
