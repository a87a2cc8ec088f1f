import type avro from 'avsc';

/**
 * Checks that an Avro body decodes with its writer schema, without building the record: a
 * checker compiled once per writer schema walks the bytes and refuses (throws) whatever avsc's
 * fromBuffer refuses: a union or enum index out of range, a long beyond 2^53, a negative length,
 * bytes missing or left over. Returns the record's top-level string `id` (undefined when the
 * record has none or it is null), which the decoder compares with the Kafka key.
 *
 * Why: the engine used to decode every record into an object of ~190 properties that only the
 * row encoder read, and that lived from the fetch to the commit (old-generation garbage: most of
 * the sink's GC time). The PostgreSQL store reads the COPY text straight from the bytes
 * (sinks/postgres/avro-copy.ts); the record object is built only where someone reads it (the
 * memory store, a row the byte reader cannot vouch for).
 *
 * Why not avsc: its decoding builds the object this avoids, and its Type#_skip checks neither enum
 * indexes nor a long's precision (it cannot give fromBuffer's verdict). Measured with the byte reader
 * of avro-copy.ts, side by side on the same backlog (100k users + 300k logins): 27.5 -> 19.0 and
 * 21.1 -> 14.4 us of the sink's CPU a row, peak 369 -> 303 MB (docs/performance-s7-sink.md).
 *
 * undefined from compileCheck: a schema with a type this checker does not walk (none of the
 * declared schemas), or a record whose id is an enum: decode it eagerly as before.
 *
 * In schemas/ (it was the sink's): decodeFramed (wire.ts) walks every body with compileBound, the
 * same walks from any root type, before avsc builds the value.
 */
export type BodyCheck = (body: Buffer, start?: number) => string | undefined;

class Refused extends Error {}

let src: Buffer = Buffer.alloc(0);
let pos = 0;
/** How many bytes a skipped block's negative size may still move `pos` back (see skipBlocks). */
let rewind = 0;

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

/**
 * The walks of a schema's values: `walk(t)` reads one value of `t` at `pos` (or throws Refused);
 * `unsupported()` is true once a type this checker does not walk was met.
 */
function walker(): {
  walk: (t: avro.Type) => Walk;
  resolve: (reader: avro.Type, writer: avro.Type) => Walk;
  unsupported: () => boolean;
} {
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
      case 'union:wrapped': {
        // avsc's wrapped union (a union of two records, say) reads an index and its branch, as below
        const branches = any.types!.map(walk);
        return () => {
          const i = readLong();
          const branch = branches[i];
          if (branch === undefined) throw new Refused('invalid union index');
          branch();
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
        return readBlocks(keyed, item, keyed || !zeroWidth(itemType));
      }
      case 'record': {
        const fields = runs(
          any.fields!.map((f) => f.type),
          walk,
        );
        return () => {
          for (let i = 0; i < fields.length; i++) fields[i]();
        };
      }
      default: {
        // a logical type (a registry client built with logicalTypes) reads its underlying type's bytes
        const underlying = (t as { underlyingType?: avro.Type }).underlyingType;
        if (underlying) return walk(underlying);
        unsupported = true;
        return () => undefined;
      }
    }
  };
  // A writer's value as avsc's Type#_skip reads it: what a resolver does with a writer field its reader
  // lacks. No enum index or long precision checks; a block of negative count is jumped by its size.
  const skips = new Map<avro.Type, Walk>();
  const skip = (t: avro.Type): Walk => {
    const known = skips.get(t);
    if (known) return known;
    const slot: { walk?: Walk } = {};
    skips.set(t, () => slot.walk!());
    slot.walk = buildSkip(t);
    return slot.walk;
  };
  const buildSkip = (t: avro.Type): Walk => {
    const any = t as unknown as { types?: avro.Type[]; fields?: { type: avro.Type }[]; size?: number };
    switch (t.typeName) {
      case 'int':
      case 'long':
      case 'enum':
        return () => void readLong();
      case 'union:wrapped':
      case 'union:unwrapped': {
        const branches = any.types!.map(skip);
        return () => {
          const i = readLong();
          const branch = branches[i];
          if (branch === undefined) throw new Refused(`invalid union index: ${i}`);
          branch();
        };
      }
      case 'record': {
        const fields = any.fields!.map((f) => skip(f.type));
        return () => {
          for (let i = 0; i < fields.length; i++) fields[i]();
        };
      }
      case 'map':
        return skipBlocks(true, skip((t as avro.types.MapType).valuesType), true);
      case 'array': {
        const items = (t as avro.types.ArrayType).itemsType;
        return skipBlocks(false, skip(items), !zeroWidth(items));
      }
      default: {
        const underlying = (t as { underlyingType?: avro.Type }).underlyingType;
        if (underlying) return skip(underlying);
        return walk(t); // null, boolean, float, double, fixed, string, bytes: the same bytes as a read
      }
    }
  };
  // A writer's value as `reader`'s resolver reads it (avsc's Type#createResolver and _update).
  const resolved = new Map<avro.Type, Map<avro.Type, Walk>>();
  const resolve = (reader: avro.Type, writer: avro.Type): Walk => {
    let byWriter = resolved.get(reader);
    if (!byWriter) resolved.set(reader, (byWriter = new Map()));
    const known = byWriter.get(writer);
    if (known) return known;
    const slot: { walk?: Walk } = {};
    byWriter.set(writer, () => slot.walk!());
    slot.walk = buildResolved(reader, writer);
    return slot.walk;
  };
  const buildResolved = (reader: avro.Type, writer: avro.Type): Walk => {
    const r = reader.typeName;
    const w = writer.typeName;
    const underlying = (writer as { underlyingType?: avro.Type }).underlyingType;
    if (underlying && !r.startsWith('union') && !(reader as { underlyingType?: avro.Type }).underlyingType)
      return resolve(reader, underlying);
    if (w.startsWith('union')) {
      const branches = (writer as unknown as { types: avro.Type[] }).types.map((b) => resolve(reader, b));
      return () => {
        const i = readLong();
        const branch = branches[i];
        if (branch === undefined) throw new Refused(`invalid union index: ${i}`);
        branch();
      };
    }
    if (r.startsWith('union')) {
      // the first branch that resolves the writer (avsc's UnionType#_update)
      for (const b of (reader as unknown as { types: avro.Type[] }).types) {
        try {
          b.createResolver(writer);
        } catch {
          continue;
        }
        return resolve(b, writer);
      }
      return walk(writer);
    }
    if (r === 'record' && w === 'record') {
      const readerFields = (reader as avro.types.RecordType).fields as unknown as {
        name: string;
        aliases: string[];
        type: avro.Type;
      }[];
      const fields = (writer as avro.types.RecordType).fields.map((wf): Walk => {
        const matches = readerFields.filter((f) => f.name === wf.name || f.aliases.includes(wf.name));
        if (matches.length === 0) return skip(wf.type); // a writer field the reader lacks: skipped
        const [read, ...peeks] = matches.map((f) => resolve(f.type, wf.type));
        if (peeks.length === 0) return read;
        return () => {
          const at = pos;
          for (const peek of peeks) {
            peek();
            pos = at;
          }
          read();
        };
      });
      return () => {
        for (let i = 0; i < fields.length; i++) fields[i]();
      };
    }
    if (r === 'map' && w === 'map') {
      const values = resolve((reader as avro.types.MapType).valuesType, (writer as avro.types.MapType).valuesType);
      return readBlocks(true, values, true);
    }
    if (r === 'array' && w === 'array') {
      const items = (writer as avro.types.ArrayType).itemsType;
      return readBlocks(false, resolve((reader as avro.types.ArrayType).itemsType, items), !zeroWidth(items));
    }
    return walk(writer);
  };
  return { walk, resolve, unsupported: () => unsupported };
}

/**
 * A map's or an array's blocks as avsc's _read reads them. Ends on a count of 0, or NaN, as avsc's loop
 * does (its condition is the count's truthiness). avsc makes an array of the first block's count
 * (refused beyond 2^32 - 1); refused on every block here: where avsc would accept one, it would then
 * hang filling the array.
 */
function readBlocks(keyed: boolean, item: Walk, walked: boolean): Walk {
  return () => {
    for (let n = readLong(); n; n = readLong()) {
      if (n < 0) {
        n = -n;
        readLong(); // the block's size in bytes
      }
      if (!keyed && !(Number.isInteger(n) && n < 2 ** 32)) throw new Refused('Invalid array length');
      if (!walked) continue;
      for (let i = 0; i < n; i++) {
        if (keyed) advance(readLong());
        item();
      }
    }
  };
}

/**
 * A map's or an array's blocks as avsc's _skip reads them: a block of negative count is jumped by its
 * size. A negative size moves avsc backwards over bytes it has read (no writer writes one), and it
 * reads zeros before the buffer's start as beyond its end: followed as avsc does, up to `rewind` bytes
 * moved back in all (8 times the body's length): a block that jumps back to its own count makes avsc
 * loop for ever, and with that budget spent the walk refuses, in bounded time.
 */
function skipBlocks(keyed: boolean, item: Walk, walked: boolean): Walk {
  return () => {
    for (let n = readLong(); n; n = readLong()) {
      if (n < 0) {
        const len = readLong();
        const to = pos + len;
        // beyond the end avsc reads only zeros: it never comes back (NaN refused too)
        if (!(to <= src.length)) throw new Refused('truncated buffer');
        if (len < 0 && (rewind += len) < 0) throw new Refused('block sizes that move back for ever');
        pos = to;
        continue;
      }
      // avsc skips a count of items that take no bytes one by one: as for a read, refused from 2^32
      if (!walked && !(Number.isInteger(n) && n < 2 ** 32)) throw new Refused('Invalid array length');
      if (!walked) continue;
      for (let i = 0; i < n; i++) {
        if (keyed) advance(readLong());
        item();
      }
    }
  };
}

/** Checks that a body holds one value of a schema, without building it; throws when avsc would refuse it. */
export type BodyBound = (body: Buffer) => void;

/**
 * The check of any schema's bodies (not only a record's, and no id): what schemas/wire.ts's
 * decodeFramed runs before avsc builds the value, so that a corrupt block count cannot make avsc
 * loop (avsc reads past the end of the buffer as zeros and only says "truncated" once it is done:
 * a map whose count became ~2^50 never is). undefined for a schema with a type it does not walk.
 * Left as avsc has it: an array of items that take no bytes (null, an empty record) with a count
 * under 2^32 is accepted, and avsc then fills an array that long.
 */
export function compileBound(type: avro.Type, reader?: avro.Type): BodyBound | undefined {
  const { walk, resolve, unsupported } = walker();
  // Read through a resolver (`reader` differs from the writer `type`): the writer fields the reader
  // lacks are skipped as avsc skips them (no enum or long checks; a block jumped by its size).
  const root = reader && reader !== type ? resolve(reader, type) : walk(type);
  if (unsupported()) return undefined;
  return (body) => {
    src = body;
    pos = 0;
    rewind = 8 * body.length;
    try {
      root();
      if (pos < body.length) throw new Refused('trailing data');
    } finally {
      src = EMPTY;
    }
  };
}

export function compileCheck(type: avro.Type): BodyCheck | undefined {
  const { walk, unsupported } = walker();
  const root = walk(type);
  if (unsupported() || type.typeName !== 'record') return undefined;
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

/**
 * A record's field walks, with each run of adjacent fields of one nullable kind (["null", boolean]
 * or ["null", string], the null branch at the same place) walked by one loop instead of one call a
 * field: a user's last 103 fields are ["null", boolean] (session 14's profile: the nullable steps
 * were ~4 % of the sink's busy time, most of it the calls). Each field of a run is read as its
 * own walk reads it: the same bytes accepted, the same refusals (a form other than the one-byte
 * index goes that field's own general way, in the same order).
 */
function runs(types: readonly avro.Type[], walk: (t: avro.Type) => Walk): Walk[] {
  const out: Walk[] = [];
  for (let i = 0; i < types.length;) {
    const kind = nullableKind(types[i]);
    let j = i + 1;
    if (kind !== undefined) while (j < types.length && nullableKind(types[j]) === kind) j++;
    if (j - i < 2) {
      out.push(walk(types[i]));
      i++;
      continue;
    }
    const walks = types.slice(i, j).map(walk);
    const nullByte = kind!.endsWith('@0') ? 0 : 2;
    const valueByte = 2 - nullByte;
    const count = j - i;
    if (kind!.startsWith('boolean'))
      out.push(() => {
        for (let k = 0; k < count; k++) {
          const b = src[pos];
          if (b === nullByte) pos++;
          else if (b === valueByte && pos + 2 <= src.length) pos += 2;
          else walks[k]();
        }
      });
    else
      out.push(() => {
        for (let k = 0; k < count; k++) {
          const b = src[pos];
          if (b === nullByte) pos++;
          else if (b === valueByte) {
            pos++;
            advance(readLong());
          } else walks[k]();
        }
      });
    i = j;
  }
  return out;
}

/** `boolean@0` / `string@1`…: a two-branch union of null and a boolean, string or bytes (null's place after @). */
function nullableKind(t: avro.Type): string | undefined {
  if (t.typeName !== 'union:unwrapped') return undefined;
  const types = (t as avro.types.UnwrappedUnionType).types;
  if (types.length !== 2) return undefined;
  const nullAt = types.findIndex((b) => b.typeName === 'null');
  if (nullAt < 0) return undefined;
  const other = types[1 - nullAt].typeName;
  if (other === 'boolean') return `boolean@${nullAt}`;
  if (other === 'string' || other === 'bytes') return `string@${nullAt}`;
  return undefined;
}

/** Whether a value of this type takes no bytes at all. */
function zeroWidth(t: avro.Type, within: ReadonlySet<avro.Type> = new Set()): boolean {
  if (t.typeName === 'null') return true;
  if (t.typeName === 'fixed') return (t as avro.types.FixedType).size === 0;
  if (t.typeName !== 'record' || within.has(t)) return false; // a record inside itself: walked, as before
  const inner = new Set(within).add(t);
  return (t as avro.types.RecordType).fields.every((f) => zeroWidth(f.type, inner));
}
