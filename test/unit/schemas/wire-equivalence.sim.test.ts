import avro from 'avsc';
import { createUserStage, type AvroRecord } from '../../../pipeline/stages';
import { avroType } from '../../../schemas/avro';
import { loadCatalog } from '../../../schemas/catalog';
import { encodeFramed, frame } from '../../../schemas/wire';
import { mulberry32 } from '../../../simulator/prng';
import { simUserRows } from '../connectors/salesforce/sim-helpers';

/**
 * encodeFramed writes into a reused scratch buffer and checks without an error hook first (the
 * hot path of a full run). Its output must stay byte for byte what avsc's own toBuffer, framed,
 * gives, and a value that does not fit must name the same fields as a full check with the hook:
 * here on the simulator's users, changed at random (seeded; WIRE_SEED=n replays a run).
 */
const SEED = Number(process.env.WIRE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const NOW = '2026-11-01T00:00:00.000Z';

/** The framing before the scratch buffer: avsc's toBuffer, then the 5-byte header. */
const reference = (type: avro.Type, id: number, value: unknown) => frame(id, type.toBuffer(value));

/** The fields a full check with the error hook names (what the dead letter's field comes from). */
function badPaths(type: avro.Type, value: unknown): string[] {
  const paths: string[] = [];
  type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') });
  return paths;
}

describe(`encodeFramed on the simulator's users (WIRE_SEED=${SEED})`, () => {
  const records: AvroRecord[] = [];
  const catalog = loadCatalog();
  const type = avroType(catalog.schemas.userValue);
  const fields = (catalog.schemas.userValue as { fields: { name: string; type: unknown }[] }).fields;

  beforeAll(async () => {
    const { rows, info } = await simUserRows({ users: 150, now: NOW, seed: (SEED % 1000) + 1 });
    const stage = createUserStage(catalog.userMapping);
    const ctx = { instanceUrl: info.instanceUrl, orgId: info.orgId, connectorName: 'c', runId: 'r', extractedAt: 1 };
    for (const row of rows) {
      const r = stage(row, ctx);
      if (r.ok) records.push(r.record);
    }
  });

  test('same bytes as toBuffer + frame, whatever the size (the scratch buffer grows and is reused)', () => {
    expect(records.length).toBeGreaterThan(100);
    const rnd = mulberry32(SEED);
    const stringFields = fields.filter((f) => JSON.stringify(f.type).includes('"string"')).map((f) => f.name);
    const changed = records.map((rec) => {
      const out: Record<string, unknown> = { ...rec };
      // Long (past the scratch's first 16 KiB) and non-ASCII strings in some records.
      for (const name of stringFields) {
        if (rnd() < 0.05) out[name] = 'é€😀x'.repeat(1 + Math.floor(rnd() * (rnd() < 0.2 ? 20_000 : 50)));
      }
      return out;
    });
    expect(changed.some((r) => type.toBuffer(r).length > 16 * 1024)).toBe(true);
    for (const [i, rec] of [...records, ...changed].entries()) {
      const id = Math.floor(rnd() * 0x7fffffff);
      expect({ i, hex: encodeFramed(type, id, rec).toString('hex') }).toEqual({
        i,
        hex: reference(type, id, rec).toString('hex'),
      });
    }
  });

  test('a value that does not fit names the same fields as the full check', () => {
    const rnd = mulberry32(SEED ^ 0x5bd1e995);
    const wrong = [42, 'text', { a: 1 }, [1], true, undefined];
    for (const rec of records.slice(0, 60)) {
      const bad: Record<string, unknown> = { ...rec };
      for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) {
        bad[fields[Math.floor(rnd() * fields.length)].name] = wrong[Math.floor(rnd() * wrong.length)];
      }
      const paths = badPaths(type, bad);
      if (paths.length === 0) {
        expect(encodeFramed(type, 1, bad).equals(reference(type, 1, bad))).toBe(true); // the change still fits
        continue;
      }
      expect(() => encodeFramed(type, 1, bad)).toThrow(
        expect.objectContaining({ code: 'RECORD_SCHEMA_MISMATCH', field: paths[0] }),
      );
    }
  });
});
