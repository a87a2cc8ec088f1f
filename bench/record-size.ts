/**
 * Record-size benchmark (not a test): the users-topic value of the simulator's users, encoded
 * with the shipped schema (typed pref* / perm* flags, issue 15) and with the map form it
 * replaced (every UserPreferences* / UserPermissions* checkbox in two boolean maps), side by
 * side, with the raw CSV row for scale.
 *
 *   node -r ts-node/register/transpile-only bench/record-size.ts [users]   (default 2000)
 *
 * Every user goes through the real extractor (Bulk API against the in-process simulator), the
 * user stage and the latest-login merge with the user's device, as a run publishes them.
 */
import { createLatestLoginMerger, createLoginEventStage, createUserStage, type AvroRecord } from '../pipeline/stages';
import { laterSuccessfulLogin } from '../pipeline/stages/latest-login';
import type { LoginEventRecord } from '../pipeline/stages/login-event';
import { avroType, type AvroSchemaJson } from '../schemas/avro';
import { loadCatalog } from '../schemas/catalog';
import { inProcessExtraction } from './in-process';

const TYPED = /^(pref|perm)[A-Z]/;

/** The schema before issue 15: no typed flags, every flag in the two maps. */
export function mapFormSchema(schema: AvroSchemaJson): AvroSchemaJson {
  const s = schema as { fields: { name: string }[] };
  return { ...(schema as object), fields: s.fields.filter((f) => !TYPED.test(f.name)) } as AvroSchemaJson;
}

/** The same user in the map form: the typed flags back in `preferences` / `permissions`. */
export function toMapForm(record: AvroRecord): AvroRecord {
  const out: Record<string, unknown> = {};
  const preferences: Record<string, boolean> = { ...((record.preferences as Record<string, boolean>) ?? {}) };
  const permissions: Record<string, boolean> = { ...((record.permissions as Record<string, boolean>) ?? {}) };
  for (const [k, v] of Object.entries(record)) {
    if (!TYPED.test(k)) out[k] = v;
    else if (v !== null) (k.startsWith('pref') ? preferences : permissions)[k.slice(4)] = v as boolean;
  }
  const sorted = (m: Record<string, boolean>) =>
    Object.keys(m).length ? Object.fromEntries(Object.entries(m).sort()) : null;
  return { ...out, preferences: sorted(preferences), permissions: sorted(permissions) } as AvroRecord;
}

async function main(): Promise<void> {
  const users = Number(process.argv[2] ?? 2000);
  const { ex, ctx, close } = await inProcessExtraction(users, users * 5);
  try {
    const catalog = loadCatalog();
    const login = createLoginEventStage(catalog.loginHistoryMapping);
    const stage = createUserStage(catalog.userMapping);
    const merge = createLatestLoginMerger(catalog.userMapping, catalog.loginHistoryMapping);
    const latest = new Map<string, LoginEventRecord>();
    const lx = ex.logins(null);
    for await (const row of lx.rows as AsyncIterable<Record<string, string>>) {
      const r = login(row, ctx);
      if (!r.ok) continue;
      const later = laterSuccessfulLogin(latest.get(r.record.userId as string), r.record as LoginEventRecord);
      if (later) latest.set(r.record.userId as string, later);
    }
    await lx.done;
    const lean = avroType(catalog.schemas.userValue);
    const maps = avroType(mapFormSchema(catalog.schemas.userValue));
    const sizes = { csv: [] as number[], maps: [] as number[], lean: [] as number[] };
    const ux = ex.users();
    for await (const row of ux.rows as AsyncIterable<Record<string, string>>) {
      const r = stage(row, ctx);
      if (!r.ok) continue;
      const record = merge(r.record, latest.get(r.record.id as string) ?? null);
      sizes.csv.push(Object.values(row).reduce((n, v) => n + Buffer.byteLength(v) + 1, 0));
      sizes.lean.push(lean.toBuffer(record).length);
      sizes.maps.push(maps.toBuffer(toMapForm(record)).length);
    }
    await ux.done;
    const stat = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return {
        median: s[Math.floor(s.length / 2)],
        mean: Math.round(s.reduce((a, b) => a + b, 0) / s.length),
        max: s[s.length - 1],
      };
    };
    const rows = [
      ['raw CSV row (values + separators)', stat(sizes.csv)],
      ['value, map form (before)', stat(sizes.maps)],
      ['value, typed flags (after)', stat(sizes.lean)],
    ] as const;
    console.log(
      `## User value size, ${sizes.lean.length} simulator users (bytes, Avro body without the 5-byte frame)\n`,
    );
    console.log('| form | median | mean | max |\n|---|---:|---:|---:|');
    for (const [name, s] of rows) console.log(`| ${name} | ${s.median} | ${s.mean} | ${s.max} |`);
    const before = stat(sizes.maps).median;
    const after = stat(sizes.lean).median;
    console.log(
      `\ntypical (median) user value: ${before} B -> ${after} B (${(after / before).toFixed(2)}x; ` +
        `target <= 1300 B: ${after <= 1300 ? 'met' : 'not met'})`,
    );
  } finally {
    await close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
