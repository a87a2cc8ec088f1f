import { readFileSync } from 'fs';
import path from 'path';
import { parse } from 'csv-parse/sync';
import { createUserStage } from '../../../pipeline/stages/user';
import { avroType } from '../../../schemas/avro';
import { fieldColumns } from '../../../sinks/postgres/columns';
import { USER_PERMISSIONS, USER_PREFERENCES } from '../../../simulator/fields-user';
import { mulberry32 } from '../../../simulator/prng';
import { mapFormSchema, toMapForm } from '../../../bench/record-size';
import { catalog, ctx } from './helpers';

/**
 * The lean user record (issue 15): every UserPreferences* / UserPermissions* checkbox the
 * simulator's org has (the source of truth for the flags Salesforce ships) is a typed, nullable
 * boolean field; a flag the schema does not know yet (a newer Salesforce release) is kept in the
 * small fallback map; a flag the org lacks is null. Random flag values, replayable with
 * LEAN_SEED=<n>.
 */
const seed = Number(process.env.LEAN_SEED ?? Date.now() % 1_000_000);
console.log(`lean-record seed: LEAN_SEED=${seed}`);
const random = mulberry32(seed);
const stage = createUserStage(catalog.userMapping);
const fixture = readFileSync(path.join(__dirname, 'fixtures', 'user-row.csv'), 'utf8');
const [golden] = parse(fixture, { columns: true }) as Record<string, string>[];
const flagColumns = [
  ...USER_PREFERENCES.map(([p]) => `UserPreferences${p}`),
  ...USER_PERMISSIONS.map((p) => `UserPermissions${p}`),
];
const fieldOf = (column: string) => column.replace(/^UserPreferences/, 'pref').replace(/^UserPermissions/, 'perm');

function typicalRow(): Record<string, string> {
  const row: Record<string, string> = { ...golden };
  for (const k of Object.keys(row))
    if (k.startsWith('UserPreferences') || k.startsWith('UserPermissions')) delete row[k];
  for (const c of flagColumns) row[c] = random() < 0.5 ? 'true' : 'false';
  return row;
}

describe('lean user record: typed flags', () => {
  test('every flag the org has is a typed boolean field with the row value; the fallback maps stay null', () => {
    const row = typicalRow();
    const result = stage(row, ctx);
    if (!result.ok) throw result.error;
    for (const c of flagColumns) expect([c, result.record[fieldOf(c)]]).toEqual([c, row[c] === 'true']);
    expect(result.record.preferences).toBeNull();
    expect(result.record.permissions).toBeNull();
  });

  test('a flag the org lacks is null; a flag the schema does not know goes to the fallback map only', () => {
    const row = typicalRow();
    const lacking = flagColumns[Math.floor(random() * flagColumns.length)];
    delete row[lacking];
    row.UserPreferencesSomethingNewInWinter99 = 'true';
    row.UserPermissionsBrandNewUser = 'false';
    const result = stage(row, ctx);
    if (!result.ok) throw result.error;
    expect(result.record[fieldOf(lacking)]).toBeNull();
    expect(result.record.preferences).toEqual({ SomethingNewInWinter99: true });
    expect(result.record.permissions).toEqual({ BrandNewUser: false });
  });

  test("the simulator's typical user encodes to at most 1.3 KB (was 3.6 KB with the maps)", () => {
    const record = stage(typicalRow(), ctx);
    if (!record.ok) throw record.error;
    const bytes = avroType(catalog.schemas.userValue).toBuffer(record.record).length;
    console.log(`typical user value: ${bytes} B`);
    expect(bytes).toBeLessThanOrEqual(1300);
  });

  test('the sink makes every typed flag a boolean column', () => {
    const columns = new Map(fieldColumns(catalog.schemas.userValue).map((c) => [c.field, c]));
    for (const c of flagColumns) expect([c, columns.get(fieldOf(c))?.pgType]).toEqual([c, 'boolean']);
    expect(columns.get('prefHideS1BrowserUI')?.column).toBe('pref_hide_s1_browser_ui');
  });

  test('BACKWARD: the new schema reads a value written with the map form (typed flags null, maps kept)', () => {
    const record = stage(typicalRow(), ctx);
    if (!record.ok) throw record.error;
    const before = avroType(mapFormSchema(catalog.schemas.userValue));
    const after = avroType(catalog.schemas.userValue);
    const old = toMapForm(record.record);
    const read = after.fromBuffer(before.toBuffer(old), after.createResolver(before)) as Record<string, unknown>;
    expect(read.preferences).toEqual(old.preferences);
    expect(read.prefHideS1BrowserUI).toBeNull();
    expect(read.email).toBe(record.record.email);
  });
});
