import avro from 'avsc';
import type { AvroSchemaJson } from '../../../schemas/avro';
import { loadConnectorSchemas } from '../../../schemas/avro';
import { frame } from '../../../schemas/wire';
import { mulberry32 } from '../../../simulator/prng';
import { compileCheck } from '../../../schemas/avro-check';
import type { WriterSchema } from '../../../sinks/port';
import { CopyBytes, OK, rowReader } from '../../../sinks/postgres/avro-copy';
import { lineEncoder } from '../../../sinks/postgres/statements';
import { SinkTable } from '../../../sinks/postgres/table';

/**
 * Session 14: runs of adjacent ["null", boolean] / ["null", string] fields are walked by one loop
 * (avro-check.ts runs, avro-copy.ts runs) instead of one call a field. Random record schemas with
 * runs of every kind and order (the null branch first or second, runs of 1 to 120, other fields
 * between), bodies built field by field from random forms of each union index (the one byte, a
 * longer varint, no such branch, any byte, values missing, cut anywhere):
 * - the checker's verdict is today's checker's (a frozen copy of avro-check.ts at a6870d8, below):
 *   the same id returned, or the same refusal message (the dead-letter reason);
 * - when the COPY reader answers OK, its text (both targets) is the decoded-value encoder's
 *   (statements.ts lineEncoder, which today's reader equals: avro-copy.test.ts), and a body of
 *   one-byte indexes only is always OK.
 * Randomised: NULLABLE_RUNS_S14_SEED=<n> replays a run.
 */
const seed = Number(process.env.NULLABLE_RUNS_S14_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Field = { name: string; type: unknown; default?: unknown };

/** A zigzag varint of n, padded to `width` bytes (continuation bits on zero groups: the same value). */
function varint(n: number, width = 1): number[] {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  do {
    out.push(z & 0x7f);
    z = Math.floor(z / 128);
  } while (z > 0);
  while (out.length < width) out.push(0);
  return out.map((b, i) => (i < out.length - 1 ? b | 0x80 : b));
}

/** A record schema of runs of nullable booleans and strings (both orders), with other fields between. */
function randomSchema(rnd: () => number, n: number): AvroSchemaJson {
  const fields: Field[] = [{ name: 'id', type: 'string' }];
  let k = 0;
  const name = () => `f${k++}`;
  const groups = 1 + Math.floor(rnd() * 6);
  for (let g = 0; g < groups; g++) {
    const inner = rnd() < 0.5 ? 'boolean' : 'string';
    const nullFirst = rnd() < 0.7;
    const length = rnd() < 0.15 ? 60 + Math.floor(rnd() * 60) : 1 + Math.floor(rnd() * 8);
    for (let i = 0; i < length; i++)
      fields.push(
        nullFirst
          ? { name: name(), type: ['null', inner], default: null }
          : { name: name(), type: [inner, 'null'], default: inner === 'boolean' ? false : '' },
      );
    const between = rnd();
    if (between < 0.2) fields.push({ name: name(), type: ['null', 'double'], default: null });
    else if (between < 0.4)
      fields.push({ name: name(), type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null });
    else if (between < 0.5) fields.push({ name: name(), type: 'string' });
    else if (between < 0.6) fields.push({ name: name(), type: 'boolean' });
    // else: the next run follows at once (of another kind or order, or the same: one longer run)
  }
  return { type: 'record', name: `Runs${n}`, fields } as unknown as AvroSchemaJson;
}

interface Case {
  json: AvroSchemaJson;
  type: avro.Type;
  writer: WriterSchema;
  table: SinkTable;
}

function prepare(json: AvroSchemaJson, id: number): Case {
  const type = avro.Type.forSchema(json as avro.Schema);
  const fields = (json as unknown as { fields: Field[] }).fields;
  const writer: WriterSchema = { id, json, type, fields: new Set(fields.map((f) => f.name)) };
  const table = new SinkTable({ schema: 'public', name: `t${id}` });
  table.absorb(json);
  return { json, type, writer, table };
}

/** A body of the random schema, field by field; `canonical`: every union index is the one byte avsc writes. */
function randomBody(rnd: () => number, json: AvroSchemaJson): { body: Buffer; canonical: boolean } {
  const fields = (json as unknown as { fields: Field[] }).fields;
  let canonical = true;
  const text = (): number[] => {
    const pick = rnd();
    if (pick < 0.1) canonical = false; // the reader answers FALLBACK for it: encoded from the value
    const s =
      pick < 0.1
        ? Buffer.from([0x61, 0xff, 0x62]) // not UTF-8
        : Buffer.from(
            ['', 'a', 'tab\there', 'back\\slash', 'line\nfeed\r', 'café ☃', 'plain text'][Math.floor(rnd() * 7)],
          );
    return [...varint(s.length), ...s];
  };
  const value = (t: unknown): number[] => {
    const name = typeof t === 'string' ? t : (t as { type: string }).type;
    if (name === 'boolean') return [Math.floor(rnd() * 3)]; // 0, 1, and 2 (avsc reads any non-zero as true)
    if (name === 'string') return text();
    if (name === 'double') return [...Buffer.from(new Float64Array([rnd() * 100 - 50]).buffer)];
    return varint(1_700_000_000_000 + Math.floor(rnd() * 1e6));
  };
  // half the bodies with every index canonical, the others with one field in ten in another form
  const rate = rnd() < 0.5 ? 0 : 0.1;
  const bytes: number[] = [...varint(3), 0x30, 0x30, 0x31];
  for (const f of fields.slice(1)) {
    if (!Array.isArray(f.type)) {
      bytes.push(...value(f.type));
      continue;
    }
    const nullAt = f.type.indexOf('null');
    const form = rnd() < rate ? Math.floor(rnd() * 6) : 6;
    if (form >= 6)
      bytes.push(...(rnd() < 0.4 ? varint(nullAt) : [...varint(1 - nullAt), ...value(f.type[1 - nullAt])]));
    else {
      canonical = false;
      if (form === 0) bytes.push(...varint(nullAt, 2 + Math.floor(rnd() * 2)));
      else if (form === 1) bytes.push(...varint(1 - nullAt, 2 + Math.floor(rnd() * 2)), ...value(f.type[1 - nullAt]));
      else if (form === 2)
        bytes.push(...varint(rnd() < 0.5 ? 2 : -1)); // no such branch
      else if (form === 3)
        bytes.push(Math.floor(rnd() * 256)); // any byte
      else if (form === 4)
        bytes.push(...varint(1 - nullAt)); // the value missing
      else bytes.push(...varint(1 - nullAt), ...value(f.type[1 - nullAt]));
    }
  }
  let body = Buffer.from(bytes);
  const cut = rnd();
  if (cut < 0.08) body = body.subarray(0, Math.floor(rnd() * body.length));
  else if (cut < 0.16)
    body = body.subarray(0, body.length - 1); // the last value's byte missing
  else if (cut < 0.2) body = Buffer.concat([body, Buffer.from([0])]); // trailing data
  return { body, canonical: canonical && cut >= 0.2 };
}

/** What a checker says of a body: the id it returns, or its refusal's message. */
function verdict(check: (body: Buffer) => string | undefined, body: Buffer): { id?: string; refused?: string } {
  try {
    return { id: check(body) };
  } catch (err) {
    return { refused: (err as Error).message };
  }
}

describe(`runs of nullable fields walked as one step (NULLABLE_RUNS_S14_SEED=${seed})`, () => {
  const compare = (c: Case, bodies: () => { body: Buffer; canonical: boolean }, count: number) => {
    const check = compileCheck(c.type)!;
    const before = oldCompileCheck(c.type)!;
    expect(check).toBeDefined();
    const targets = (['stage', 'direct'] as const).map((target) => ({
      target,
      read: rowReader(c.table, c.writer, target)!,
      encode: lineEncoder(c.table, c.writer, target),
    }));
    const tally = { accepted: 0, refused: 0, compared: 0 };
    for (let i = 0; i < count; i++) {
      const { body, canonical } = bodies();
      const got = verdict(check, body);
      expect({ i, body: body.toString('hex'), verdict: got }).toEqual({
        i,
        body: body.toString('hex'),
        verdict: verdict(before, body),
      });
      if (got.refused !== undefined) {
        tally.refused++;
        continue;
      }
      tally.accepted++;
      const value = c.type.fromBuffer(body) as Record<string, unknown>;
      const framed = frame(c.writer.id, body);
      const op = {
        kind: 'upsert' as const,
        key: '001',
        value,
        writer: c.writer,
        source: { topic: 't', partition: 1, offset: String(i), key: null, value: framed },
      };
      for (const { target, read, encode } of targets) {
        const out = new CopyBytes(16);
        const outcome = read(framed, '001', 1, String(i), out);
        if (canonical && target === 'stage') expect({ i, target, outcome }).toEqual({ i, target, outcome: OK });
        if (outcome !== OK) continue;
        tally.compared++;
        expect({ i, target, text: out.buf.toString('latin1', 0, out.n) }).toEqual({
          i,
          target,
          text: Buffer.from(encode(op)!).toString('latin1'),
        });
      }
    }
    return tally;
  };

  it('random schemas of runs: the verdicts are the checker of a6870d8, the COPY text the decoded-value encoder', () => {
    const rnd = mulberry32(seed);
    const total = { accepted: 0, refused: 0, compared: 0 };
    for (let s = 0; s < 40; s++) {
      const c = prepare(randomSchema(rnd, s), 100 + s);
      const t = compare(c, () => randomBody(rnd, c.json), 150);
      for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += t[k];
    }
    expect(total.accepted).toBeGreaterThan(500);
    expect(total.refused).toBeGreaterThan(500);
    expect(total.compared).toBeGreaterThan(1000);
  });

  it('the shipped user and login event schemas: random values, some bytes damaged, some cut', () => {
    const rnd = mulberry32(seed ^ 0x5a5a5a5a);
    const shipped = loadConnectorSchemas();
    for (const [n, json] of [shipped.userValue, shipped.loginEventValue].entries()) {
      const c = prepare(json, 1 + n);
      const t = compare(
        c,
        () => {
          const body = Buffer.from(c.type.toBuffer(c.type.random()));
          const damage = rnd();
          if (damage < 0.3)
            for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--)
              body[Math.floor(rnd() * body.length)] = Math.floor(rnd() * 256);
          if (damage >= 0.3 && damage < 0.4)
            return { body: body.subarray(0, Math.floor(rnd() * body.length)), canonical: false };
          return { body, canonical: false };
        },
        400,
      );
      expect(t.accepted).toBeGreaterThan(100);
      expect(t.refused).toBeGreaterThan(20);
    }
  });
});

// Today's checker (sinks/engine/avro-check.ts at a6870d8), frozen: the oracle of the verdicts and reasons.
type BodyCheck = (body: Buffer, start?: number) => string | undefined;
class Refused extends Error {}

let src: Buffer = Buffer.alloc(0);
let pos = 0;

function readLong(): number {
  let n = 0;
  let k = 0;
  let b: number;
  let h: number;
  do {
    if (pos >= src.length) throw new Refused('truncated buffer');
    b = src[pos++];
    h = b & 0x80;
    n |= (b & 0x7f) << k;
    k += 7;
  } while (h && k < 28);
  if (!h) return (n >> 1) ^ -(n & 1);
  let f = n;
  let fk = 268435456;
  do {
    if (pos >= src.length) throw new Refused('truncated buffer');
    b = src[pos++];
    f += (b & 0x7f) * fk;
    fk *= 128;
  } while (b & 0x80);
  return (f % 2 ? -(f + 1) : f) / 2;
}

function advance(len: number): void {
  // Written to refuse NaN too (a varint of ~150 bytes overflows to it; avsc then ends invalid).
  if (!(len >= 0 && pos + len <= src.length)) throw new Refused('truncated buffer');
  pos += len;
}

type Walk = () => void;

function oldCompileCheck(type: avro.Type): BodyCheck | undefined {
  const memo = new Map<avro.Type, Walk>();
  let unsupported = false;
  const walk = (t: avro.Type): Walk => {
    const known = memo.get(t);
    if (known) return known;
    // A recursive record refers to itself: the slot calls its walk once that is built.
    const slot: { walk?: Walk } = {};
    memo.set(t, () => slot.walk!());
    slot.walk = build(t);
    return slot.walk;
  };
  const build = (t: avro.Type): Walk => {
    const any = t as unknown as {
      fields?: { type: avro.Type }[];
      types?: avro.Type[];
      symbols?: string[];
      valuesType?: avro.Type;
      itemsType?: avro.Type;
      size?: number;
    };
    switch (t.typeName) {
      case 'null':
        return () => undefined;
      case 'boolean':
        return () => advance(1);
      case 'int':
        return () => void readLong();
      case 'long':
        return () => {
          const n = readLong();
          if (!(n >= -9007199254740990 && n <= 9007199254740990)) throw new Refused('potential precision loss');
        };
      case 'float':
        return () => advance(4);
      case 'double':
        return () => advance(8);
      case 'string':
      case 'bytes':
        return () => advance(readLong());
      case 'fixed': {
        const size = any.size!;
        return () => advance(size);
      }
      case 'enum': {
        const count = any.symbols!.length;
        return () => {
          const i = readLong();
          if (!(i >= 0 && i < count)) throw new Refused(`invalid enum index: ${i}`);
        };
      }
      case 'union:unwrapped': {
        const branches = any.types!.map(walk);
        const general = () => {
          const i = readLong();
          const branch = branches[i];
          if (branch === undefined) throw new Refused(`invalid union index: ${i}`);
          branch();
        };
        const nullAt = any.types!.findIndex((b) => b.typeName === 'null');
        if (branches.length !== 2 || nullAt < 0) return general;
        // ["null", X], ~180 of a user's ~190 fields: the index is one byte, 0 or 2 (zigzag), in
        // every record avsc writes; read in place, X's bytes checked here when it is a boolean or
        // a string. Anything else (a longer varint, another index, another X) goes the general way.
        const nullByte = 2 * nullAt;
        const valueByte = 2 * (1 - nullAt);
        const value = branches[1 - nullAt];
        const kind = any.types![1 - nullAt].typeName;
        if (kind === 'boolean')
          return () => {
            const b = src[pos];
            if (b === nullByte) pos++;
            else if (b === valueByte && pos + 2 <= src.length) pos += 2;
            else general();
          };
        if (kind === 'string' || kind === 'bytes')
          return () => {
            const b = src[pos];
            if (b === nullByte) pos++;
            else if (b === valueByte) {
              pos++;
              advance(readLong());
            } else general();
          };
        return () => {
          const b = src[pos];
          if (b === nullByte) pos++;
          else if (b === valueByte) {
            pos++;
            value();
          } else general();
        };
      }
      case 'map':
      case 'array': {
        const itemType = t.typeName === 'map' ? any.valuesType! : any.itemsType!;
        const item = walk(itemType);
        const keyed = t.typeName === 'map';
        // Items of an array that take no bytes (null, fixed of size 0, a record of such) are not walked
        // one by one: a crafted count would spin for seconds (2^32) or forever (an overlong varint's
        // Infinity). Every other item, and every map entry (its key), takes a byte: the buffer bounds it.
        const walked = keyed || !zeroWidth(itemType);
        return () => {
          // Ends on a count of 0, or NaN, as avsc's loop does (its condition is the count's truthiness).
          for (let n = readLong(); n; n = readLong()) {
            if (n < 0) {
              n = -n;
              readLong(); // the block's size in bytes
            }
            // avsc makes an array of the first block's count (refused beyond 2^32 - 1); refused on every
            // block here: where avsc would accept one, it would then hang filling the array
            if (!keyed && !(Number.isInteger(n) && n < 2 ** 32)) throw new Refused('Invalid array length');
            if (!walked) continue;
            for (let i = 0; i < n; i++) {
              if (keyed) advance(readLong());
              item();
            }
          }
        };
      }
      case 'record': {
        const fields = any.fields!.map((f) => walk(f.type));
        return () => {
          for (let i = 0; i < fields.length; i++) fields[i]();
        };
      }
      default:
        unsupported = true;
        return () => undefined;
    }
  };
  const root = walk(type);
  if (unsupported || type.typeName !== 'record') return undefined;
  // The top-level id, read where it is: a string field, or ["null", "string"].
  const fields = (type as avro.types.RecordType).fields;
  const at = fields.findIndex((f) => f.name === 'id');
  const idType = at < 0 ? undefined : fields[at].type;
  const stringId = idType?.typeName === 'string';
  const unionId =
    idType?.typeName === 'union:unwrapped'
      ? (idType as avro.types.UnwrappedUnionType).types.map((b) => b.typeName)
      : [];
  // An enum id decodes to its symbol, a string the decoder compares with the key: such writers are
  // decoded whole, as before, rather than read here.
  if (idType?.typeName === 'enum' || unionId.includes('enum')) return undefined;
  const before = fields.slice(0, Math.max(at, 0)).map((f) => walk(f.type));
  const readId = (): string | undefined => {
    let branch = 'string';
    if (!stringId) {
      const i = readLong();
      if (!(i >= 0 && i < unionId.length)) throw new Refused(`invalid union index: ${i}`);
      branch = unionId[i];
    }
    if (branch !== 'string') return undefined;
    const len = readLong();
    const start = pos;
    advance(len);
    return src.toString('utf8', start, start + len);
  };
  // `start`: where the body begins in `body` (a framed value is checked in place: no view of it per record).
  return (body, start = 0) => {
    src = body;
    pos = start;
    try {
      let id: string | undefined;
      if (stringId || unionId.length > 0) {
        for (const f of before) f();
        id = readId();
        pos = start;
      }
      root();
      if (pos < body.length) throw new Refused('trailing data');
      return id;
    } finally {
      src = EMPTY;
    }
  };
}

const EMPTY = Buffer.alloc(0);

/** Whether a value of this type takes no bytes at all. */
function zeroWidth(t: avro.Type, within: ReadonlySet<avro.Type> = new Set()): boolean {
  if (t.typeName === 'null') return true;
  if (t.typeName === 'fixed') return (t as avro.types.FixedType).size === 0;
  if (t.typeName !== 'record' || within.has(t)) return false; // a record inside itself: walked, as before
  const inner = new Set(within).add(t);
  return (t as avro.types.RecordType).fields.every((f) => zeroWidth(f.type, inner));
}
