import type avro from 'avsc';

/**
 * Random Avro schemas, values and corrupt bodies for the bounded-decode tests
 * (test/unit/schemas/bounded-decode-s19.test.ts and its resolver review): records, maps, arrays,
 * nullable and wrapped unions, enums, nested; a body corrupted with a huge block count (2^40, 2^50,
 * negative, overlong) or a random byte. Seeded by the caller's generator.
 */
export type Json = unknown;
let names = 0;

/** A random schema; array items are kinds every read of which takes a long (a bounded oracle's loops end). */
export function schemaOf(rand: () => number, depth: number, itemOnly = false, inUnion = false): Json {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const leaf = itemOnly
    ? ['string', 'long', 'int', 'enum']
    : ['string', 'long', 'int', 'boolean', 'double', 'enum', 'bytes'];
  const kinds = depth >= 3 ? leaf : [...leaf, 'map', 'array', 'nullable', 'record', 'records', 'map', 'array'];
  const kind = pick(
    kinds.filter(
      (k) => !(itemOnly && (k === 'record' || k === 'records')) && !(inUnion && (k === 'nullable' || k === 'records')),
    ),
  );
  switch (kind) {
    case 'enum':
      return { type: 'enum', name: `E${names++}`, symbols: ['A', 'B', 'C'].slice(0, 1 + Math.floor(rand() * 3)) };
    case 'map':
      return { type: 'map', values: schemaOf(rand, depth + 1) };
    case 'array':
      return { type: 'array', items: schemaOf(rand, depth + 1, true) };
    case 'nullable':
      return ['null', schemaOf(rand, depth + 1, itemOnly, true)];
    case 'record':
      return recordOf(rand, depth + 1);
    case 'records': // two records: avsc wraps such a union
      return [recordOf(rand, depth + 1), recordOf(rand, depth + 1)];
    default:
      return kind;
  }
}

export function recordOf(rand: () => number, depth: number): Json {
  const n = 1 + Math.floor(rand() * 4);
  return {
    type: 'record',
    name: `R${names++}`,
    fields: Array.from({ length: n }, (_, i) => ({ name: `f${i}`, type: schemaOf(rand, depth) })),
  };
}

/** A random value of a type (avsc's Type#random cannot be seeded). */
export function valueOf(t: avro.Type, rand: () => number): unknown {
  const any = t as unknown as {
    fields: { name: string; type: avro.Type }[];
    types: avro.Type[];
    valuesType: avro.Type;
    itemsType: avro.Type;
    symbols: string[];
    branchName: string;
  };
  const count = () => Math.floor(rand() * 4);
  switch (t.typeName) {
    case 'null':
      return null;
    case 'boolean':
      return rand() < 0.5;
    case 'int':
      return Math.floor((rand() - 0.5) * 2 ** 20);
    case 'long':
      return Math.floor((rand() - 0.5) * 2 ** 40);
    case 'double':
      return (rand() - 0.5) * 1e6;
    case 'string':
      return 'xé中'.repeat(count());
    case 'bytes':
      return Buffer.from([1, 2, 3].slice(0, count()));
    case 'enum':
      return any.symbols[Math.floor(rand() * any.symbols.length)];
    case 'map':
      return Object.fromEntries(Array.from({ length: count() }, (_, i) => [`k${i}`, valueOf(any.valuesType, rand)]));
    case 'array':
      return Array.from({ length: count() }, () => valueOf(any.itemsType, rand));
    case 'record':
      return Object.fromEntries(any.fields.map((f) => [f.name, valueOf(f.type, rand)]));
    case 'union:unwrapped':
      return valueOf(any.types[Math.floor(rand() * any.types.length)], rand);
    case 'union:wrapped': {
      const branch = any.types[Math.floor(rand() * any.types.length)];
      return { [(branch as unknown as { branchName: string }).branchName]: valueOf(branch, rand) };
    }
    default:
      throw new Error(`no values of ${t.typeName}`);
  }
}

/** A zigzag varint of n (a float: counts beyond 2^32), or an overlong one that avsc reads as ~2^133. */
export function hugeVarint(n: number | 'overlong'): number[] {
  if (n === 'overlong') return [...Array<number>(19).fill(0xfe), 0x01];
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  do {
    out.push(z % 128);
    z = Math.floor(z / 128);
  } while (z > 0);
  return out.map((b, i) => (i < out.length - 1 ? b | 0x80 : b));
}

const HUGE: (number | 'overlong')[] = [2 ** 40, 2 ** 50, -(2 ** 45), 2 ** 33 + 1, 'overlong'];

export function corrupt(body: Buffer, rand: () => number): Buffer {
  const at = Math.floor(rand() * (body.length + 1));
  if (rand() < 0.25 && body.length > 0) {
    const copy = Buffer.from(body);
    copy[Math.min(at, body.length - 1)] = Math.floor(rand() * 256);
    return copy;
  }
  const count = Buffer.from(hugeVarint(HUGE[Math.floor(rand() * HUGE.length)]));
  // in place of the byte there (a count of 0 ending a block, or any other), or inserted
  const skip = rand() < 0.7 ? 1 : 0;
  return Buffer.concat([body.subarray(0, at), count, body.subarray(Math.min(body.length, at + skip))]);
}
