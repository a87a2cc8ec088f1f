import { createRowMapper } from '../../../pipeline/stages/map-row';
import { loadCatalog } from '../../../schemas/catalog';
import { mulberry32 } from '../../../simulator/prng';
import { simUserRows } from '../connectors/salesforce/sim-helpers';
import { createRowMapper as byNameMapper } from './fixtures/map-row-by-name';

/**
 * Review pin (s10-rev-cpu, passes): map-row collects a row's values in one array reused row after row.
 * Records kept across rows (as a dead letter's or an async consumer's would be), with refused rows and
 * rows of other column lists in between: each kept record still equals what the previous code (fixtures/
 * map-row-by-name.ts) builds for its row alone, and no two records share an object value (the boolean
 * maps). KEPT_SEED=n replays.
 */
const SEED = Number(process.env.KEPT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ctx = { instanceUrl: 'https://x.my.salesforce.com/', orgId: 'o', connectorName: 'c', runId: 'r', extractedAt: 1 };

test(`records kept across rows are their own row's (KEPT_SEED=${SEED})`, async () => {
  const catalog = loadCatalog();
  const rnd = mulberry32(SEED);
  const rows = (await simUserRows({ users: 120, now: '2026-11-01T00:00:00.000Z', seed: (SEED % 1000) + 1 })).rows;
  const mapper = createRowMapper(catalog.userMapping, 'User');
  const reference = byNameMapper(catalog.userMapping, 'User');
  const kept: { row: Record<string, string>; rec: unknown }[] = [];
  for (let i = 0; i < 600; i++) {
    const row: Record<string, string> = { ...rows[Math.floor(rnd() * rows.length)] };
    const r = rnd();
    if (r < 0.15)
      row.IsActive = 'maybe'; // refused part-way
    else if (r < 0.3) row[`UserPreferencesX${Math.floor(rnd() * 3)}`] = rnd() < 0.5 ? 'true' : 'false';
    else if (r < 0.4) delete row[Object.keys(row)[1 + Math.floor(rnd() * 5)]];
    const res = mapper(row, ctx);
    if (res.ok) kept.push({ row, rec: res.record });
  }
  expect(kept.length).toBeGreaterThan(100);
  const seenObjects = new Set<unknown>();
  for (const { row, rec } of kept) {
    const want = reference(row, ctx);
    expect(want.ok).toBe(true);
    expect(JSON.stringify(rec)).toBe(JSON.stringify(want.ok ? want.record : null));
    for (const v of Object.values(rec as object)) {
      if (v !== null && typeof v === 'object') {
        expect(seenObjects.has(v)).toBe(false);
        seenObjects.add(v);
      }
    }
  }
});
