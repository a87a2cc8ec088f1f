import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import avro from 'avsc';
import { loadConnectorSchemas } from '../../../schemas/avro';
import { mulberry32 } from '../../../simulator/prng';
import { corrupt, recordOf, schemaOf, valueOf, type Json } from '../../support/avro-random';

/**
 * decodeFramed (schemas/wire.ts) on corrupt bodies: a block count of a map or an array turned into
 * a huge varint. avsc reads past the end of the buffer as zeros and counts such a block down entry
 * by entry, synchronously: a map's count of ~2^50 never ends, and the process that decodes it (the
 * connector reading its state topic, a sink decoding a writer schema its byte checker does not
 * read) hangs with no timeout to end it. decodeFramed must refuse such a body (RECORD_UNDECODABLE,
 * a dead letter) as avsc would refuse it in the end, and decode every other body as avsc does.
 *
 * Random schemas (records, maps, arrays, nullable and wrapped unions, enums, nested) and the
 * connector's RunState schema; random values; each body then corrupted at random places with a
 * huge count (2^40, 2^50, negative, an overlong varint) or a random byte. The oracle is avsc's own
 * fromBuffer, bounded: no more reads of a long than the body has bytes (a valid body's every long
 * takes a byte; beyond that avsc is reading past the end and its verdict will be "truncated"). Array
 * items are kinds whose every read takes a long, so the bound ends every loop of the oracle.
 *
 * decodeFramed runs in a child process with a time limit: before the fix it hung (the test then
 * says at which case), and a hang inside jest's own process would never end.
 *
 * BOUNDED_DECODE_SEED=<n> replays a run.
 */
const seed = Number(process.env.BOUNDED_DECODE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const root = path.resolve(__dirname, '../../..');

/** avsc's verdict, bounded: no more long reads than the body has bytes (both names of the method). */
function oracle(type: avro.Type, body: Buffer): { ok: boolean; value?: string } {
  const Tap = (avro as unknown as { Tap?: { prototype: Record<string, unknown> } }).Tap ?? tapClass();
  const proto = Tap.prototype as { readLong: () => number; readInt: () => number };
  const readLong = proto.readLong;
  let left = body.length + 1;
  proto.readLong = proto.readInt = function (this: unknown) {
    if (left-- <= 0) throw new Error('reads past the end of the buffer');
    return readLong.call(this);
  };
  try {
    return { ok: true, value: JSON.stringify(type.fromBuffer(body)) };
  } catch {
    return { ok: false };
  } finally {
    proto.readLong = proto.readInt = readLong;
  }
}

function tapClass(): { prototype: Record<string, unknown> } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('avsc/lib/utils') as { Tap: { prototype: Record<string, unknown> } }).Tap;
}

/** decodeFramed's verdicts, in a child process that gets `limitMs` (one line printed per case). */
function decodeInChild(cases: { schema: Json; framed: string }[], limitMs: number): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'bounded-decode-'));
  const file = path.join(dir, 'cases.json');
  writeFileSync(file, JSON.stringify(cases));
  const script = `
    const { writeSync, readFileSync } = require('node:fs');
    const avro = require('avsc');
    const { decodeFramed } = require('./schemas/wire');
    const cases = JSON.parse(readFileSync(${JSON.stringify(file)}, 'utf8'));
    for (const c of cases) {
      const type = avro.Type.forSchema(c.schema);
      let line;
      try {
        line = { ok: true, value: JSON.stringify(decodeFramed(type, Buffer.from(c.framed, 'hex')).value) };
      } catch (err) {
        line = { ok: false, code: err.code };
      }
      writeSync(1, JSON.stringify(line) + '\\n');
    }
  `;
  try {
    return execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: limitMs,
      killSignal: 'SIGKILL',
      maxBuffer: 64 * 1024 * 1024,
    })
      .trim()
      .split('\n');
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? '');
    const done = out === '' ? 0 : out.trim().split('\n').length;
    const stuck = cases[done];
    throw new Error(
      `decodeFramed did not finish within ${limitMs} ms (BOUNDED_DECODE_SEED=${seed}): stuck on case ${done} ` +
        `of ${cases.length}, schema ${JSON.stringify(stuck?.schema)}, body ${stuck?.framed}`,
      { cause: err },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(`decodeFramed refuses what avsc would loop on, decodes the rest as avsc (BOUNDED_DECODE_SEED=${seed})`, () => {
  console.log(`BOUNDED_DECODE_SEED=${seed}`);
  const rand = mulberry32(seed);
  // the connector's state (its arrays of Ids), and a record with a union of two records (avsc wraps it)
  const wrapped = { type: 'record', name: 'W', fields: [{ name: 'u', type: [recordOf(rand, 1), recordOf(rand, 1)] }] };
  const schemas: Json[] = [loadConnectorSchemas().runStateValue, wrapped];
  for (let i = 0; i < 24; i++) {
    const top = rand();
    schemas.push(
      top < 0.5
        ? recordOf(rand, 0)
        : top < 0.75
          ? { type: 'map', values: schemaOf(rand, 1) }
          : { type: 'array', items: schemaOf(rand, 1, true) },
    );
  }
  const cases: { schema: Json; framed: string; want: { ok: boolean; value?: string } }[] = [];
  for (const schema of schemas) {
    const type = avro.Type.forSchema(schema as avro.Schema);
    for (let v = 0; v < 4; v++) {
      const body = type.toBuffer(valueOf(type, rand));
      const bodies = [body, ...Array.from({ length: 10 }, () => corrupt(body, rand))];
      for (const b of bodies) {
        const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), b]).toString('hex');
        cases.push({ schema: type.schema(), framed, want: oracle(type, b) });
      }
    }
  }
  const got = decodeInChild(
    cases.map(({ schema, framed }) => ({ schema, framed })),
    90_000,
  );
  expect(got).toHaveLength(cases.length);
  let refused = 0;
  cases.forEach((c, i) => {
    const line = JSON.parse(got[i]) as { ok: boolean; value?: string; code?: string };
    if (!c.want.ok) refused++;
    expect({ i, ...line }).toEqual({ i, ...(c.want.ok ? c.want : { ok: false, code: 'RECORD_UNDECODABLE' }) });
  });
  // the corruptions reached what they are for: refusals, and valid bodies decoded
  expect(refused).toBeGreaterThan(cases.length / 4);
  expect(cases.length - refused).toBeGreaterThan(schemas.length * 4);
  expect(typeNames(avro.Type.forSchema(wrapped as avro.Schema))).toContain('union:wrapped');
});

function typeNames(t: avro.Type, seen = new Set<avro.Type>()): string {
  if (seen.has(t)) return '';
  seen.add(t);
  const any = t as unknown as {
    fields?: { type: avro.Type }[];
    types?: avro.Type[];
    valuesType?: avro.Type;
    itemsType?: avro.Type;
  };
  const inner = [
    ...(any.fields ?? []).map((f) => f.type),
    ...(any.types ?? []),
    ...(any.valuesType ? [any.valuesType] : []),
    ...(any.itemsType ? [any.itemsType] : []),
  ];
  return [t.typeName, ...inner.map((x) => typeNames(x, seen))].join(' ');
}
