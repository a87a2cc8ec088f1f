import { createUserStage } from '../../../pipeline/stages/user';
import { mulberry32 } from '../../../simulator/prng';
import { catalog, ctx } from './helpers';

/**
 * The user stage's fallback maps (`preferences`, `permissions`: the UserPreferences* / UserPermissions*
 * columns no typed field reads) remember the matching columns of the last column list. Whatever the
 * rows' column lists do from one row to the next (the same list, one more or one less column, the same
 * columns in another order, a column inherited from the row's prototype, which Object.keys never
 * lists), each map holds exactly the row's own matching columns: the oracle below reads
 * Object.keys(row) every time. Seeded: BOOLMAP_SEED=n replays.
 */
const SEED = Number(process.env.BOOLMAP_SEED ?? Math.floor(Math.random() * 2 ** 31));

const typed = new Set(catalog.userMapping.rows.flatMap((r) => r.sourceField.split('+')));

function oracle(row: Record<string, string>, prefix: string): Record<string, boolean> | null {
  const names = Object.keys(row)
    .filter((k) => k.startsWith(prefix) && k.length > prefix.length && !typed.has(k))
    .sort();
  if (names.length === 0) return null;
  const map: Record<string, boolean> = {};
  for (const k of names) if (row[k] !== '') map[k.slice(prefix.length)] = row[k] === 'true';
  return map;
}

test(`the fallback maps follow each row's own columns (BOOLMAP_SEED=${SEED})`, () => {
  const rnd = mulberry32(SEED);
  const int = (n: number) => Math.floor(rnd() * n);
  const stage = createUserStage(catalog.userMapping);
  const pool = [
    ...Array.from({ length: 6 }, (_, i) => `UserPermissionsNew${i}`),
    ...Array.from({ length: 6 }, (_, i) => `UserPreferencesNew${i}`),
    'UserPermissionsMarketingUser', // a typed one: never in the map
    'Title',
    'Department',
  ];
  let columns = ['Id', 'IsActive', ...pool.filter(() => rnd() < 0.5)];
  for (let i = 0; i < 3000; i++) {
    const change = int(8);
    if (change === 0) columns = [...columns, pool[int(pool.length)]].filter((c, j, a) => a.indexOf(c) === j);
    else if (change === 1 && columns.length > 2)
      columns = columns.filter((_, j) => j < 2 || j !== 2 + int(columns.length - 2));
    else if (change === 2) columns = ['Id', 'IsActive', ...columns.slice(2).reverse()];
    const values = columns.map((c) =>
      c === 'Id' ? '005Hn00000AbCdEIAV' : c === 'IsActive' ? 'true' : ['true', 'false', ''][int(3)],
    );
    let row: Record<string, string> = {};
    if (change === 3) {
      // the last column inherited: for-in lists it, Object.keys does not
      const inherited = columns[columns.length - 1];
      row = Object.create({ [inherited]: 'true' }) as Record<string, string>;
      columns.slice(0, -1).forEach((c, j) => (row[c] = values[j]));
    } else columns.forEach((c, j) => (row[c] = values[j]));
    const result = stage(row, ctx);
    if (!result.ok) throw result.error;
    expect(result.record.permissions).toEqual(oracle(row, 'UserPermissions'));
    expect(result.record.preferences).toEqual(oracle(row, 'UserPreferences'));
  }
});
