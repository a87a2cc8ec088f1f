import { createLatestLoginMerger, createUserStage, type UserRecord } from '../../../pipeline/stages';
import type { LoginEventRecord } from '../../../pipeline/stages';
import { avroType } from '../../../schemas/avro';
import { loadCatalog } from '../../../schemas/catalog';
import { encodeFramed, frame } from '../../../schemas/wire';
import { mulberry32 } from '../../../simulator/prng';
import { simUserRows } from '../connectors/salesforce/sim-helpers';
import { createRowMapper as byNameMapper } from './fixtures/map-row-by-name';

/**
 * The user stage builds its record, and the device merge its copy, with one hidden class
 * (kernel/fixed-shape.ts) instead of key by key on {}: the published bytes, the keys and their
 * order, and a refused row's error must stay what the previous code gave (fixtures/
 * map-row-by-name.ts, a verbatim copy, with a spread for the merge). Here on the simulator's
 * users, changed at random (seeded; SHAPE_SEED=n replays): non-ASCII and long text, emptied and
 * missing columns, unknown UserPreferences/UserPermissions columns, values a type refuses.
 */
const SEED = Number(process.env.SHAPE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const NOW = '2026-11-01T00:00:00.000Z';

describe(`user records with one hidden class (SHAPE_SEED=${SEED})`, () => {
  const rows: Record<string, string>[] = [];
  const catalog = loadCatalog();
  const type = avroType(catalog.schemas.userValue);
  const ctx = {
    instanceUrl: 'https://x.my.salesforce.com/',
    orgId: 'o',
    connectorName: 'c',
    runId: 'r',
    extractedAt: 1,
  };

  beforeAll(async () => {
    rows.push(...(await simUserRows({ users: 150, now: NOW, seed: (SEED % 1000) + 1 })).rows);
  });

  /** A simulator row changed at random; the result is a plain object, as a test row would be. */
  function change(row: Record<string, string>, rnd: () => number): Record<string, string> {
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
    const out: Record<string, string> = {};
    const text = new Set(catalog.userMapping.rows.filter((m) => m.type === 'string').map((m) => m.sourceField));
    for (const [k, v] of Object.entries(row)) {
      const r = rnd();
      if (r < 0.005 && k !== 'Id') continue; // a column this org lacks
      if (r < 0.02)
        out[k] = ''; // null
      else if (r < 0.1 && text.has(k)) out[k] = pick(['é€😀x', 'ünïcødé ', '\u0000\u0001"', 'x'.repeat(3000)]) + v;
      else if (r > 0.9985)
        out[k] = pick(['north', '2024-02-30T00:00:00.000Z', '1e999', 'yes', '12345']); // refused?
      else out[k] = v;
    }
    if (rnd() < 0.3) out[`UserPreferences${pick(['New', 'Zed', 'Ääh'])}`] = pick(['true', 'false', '', 'maybe']);
    if (rnd() < 0.3) out[`UserPermissions${pick(['Fly', 'Swim'])}`] = pick(['true', 'false']);
    return out;
  }

  test('same keys, same order, same bytes, same errors as the record built key by key', () => {
    expect(rows.length).toBeGreaterThan(100);
    const rnd = mulberry32(SEED);
    const stage = createUserStage(catalog.userMapping);
    const reference = byNameMapper(catalog.userMapping, 'User');
    const merge = createLatestLoginMerger(catalog.userMapping, catalog.loginHistoryMapping);
    const devices = catalog.userMapping.rows.filter((r) => r.sourceObject === 'LoginHistory');
    const loginTargets = new Map(catalog.loginHistoryMapping.rows.map((r) => [r.sourceField, r.target] as const));
    const fields = (catalog.schemas.userValue as { fields: { name: string; type: unknown }[] }).fields;
    const numeric = new Set(fields.filter((f) => /"(long|int)"/.test(JSON.stringify(f.type))).map((f) => f.name));
    const deviceValue = (target: string, i: number) => (numeric.has(target) ? 1_700_000_000_000 + i : `dév-${i}`);
    let refused = 0;
    for (const [i, row] of [...rows, ...rows.map((r) => change(r, rnd))].entries()) {
      const got = stage(row, ctx);
      const want = reference(row, ctx);
      if (!want.ok || !got.ok) {
        refused++;
        expect({ i, ok: got.ok, error: got.ok ? null : got.error.message }).toEqual({
          i,
          ok: want.ok,
          error: want.ok ? null : want.error.message,
        });
        continue;
      }
      expect({ i, keys: Object.keys(got.record) }).toEqual({ i, keys: Object.keys(want.record) });
      // a latest login for some users (its device values), none for the others
      const login =
        rnd() < 0.5
          ? null
          : (Object.fromEntries(
              devices.map((d) => [loginTargets.get(d.sourceField)!, rnd() < 0.2 ? null : deviceValue(d.target, i)]),
            ) as unknown as LoginEventRecord);
      if (login) Object.assign(login, { userId: got.record.id, id: `login-${i}` });
      const merged = merge(got.record as UserRecord, login);
      const spread: Record<string, unknown> = { ...want.record };
      for (const d of devices) spread[d.target] = login ? (login[loginTargets.get(d.sourceField)!] ?? null) : null;
      expect({ i, keys: Object.keys(merged) }).toEqual({ i, keys: Object.keys(spread) });
      expect({ i, json: JSON.stringify(merged) }).toEqual({ i, json: JSON.stringify(spread) });
      const id = Math.floor(rnd() * 0x7fffffff);
      expect({ i, hex: encodeFramed(type, id, merged).toString('hex') }).toEqual({
        i,
        hex: frame(id, type.toBuffer(spread)).toString('hex'),
      });
    }
    console.log(`record-shape: seed ${SEED}, ${rows.length * 2} rows, ${refused} refused`);
  });
});
