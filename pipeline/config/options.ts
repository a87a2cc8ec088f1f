import { z } from 'zod';

/**
 * The small vocabulary the config schema (schema.ts) is written in: zod schemas carrying what
 * the loader, the generated reference and the JSON Schema need besides the type. Every option is
 * declared once, with its default, its doc line, an example, whether it is a secret and which
 * role's file it belongs in.
 */
export type OptionRole = 'connector' | 'sink';

export interface OptionMeta {
  kind: 'string' | 'number' | 'boolean' | 'enum' | 'list' | 'secret' | 'object' | 'tlsOrBool' | 'any';
  doc: string;
  /** What is accepted, for messages and the reference (derived for enums and ranges). */
  allowed?: string;
  /** Default as the reference shows it when it is not a literal (e.g. derived from another option). */
  shownDefault?: string;
  example?: string;
  /** Only in this role's file (a file of the other role must not hold it). */
  role?: OptionRole;
  /** Enum and list of enum: matched case-insensitively, stored lower-case. */
  lower?: boolean;
  /** For a list: the problem named for one bad entry. */
  entryProblem?: string;
  /** A group read only when the file has it (its required options are required only then). */
  whenGiven?: boolean;
}

/** The metadata of every option schema, looked up by the loader and the generators. */
export const optionMeta = new WeakMap<z.ZodType, OptionMeta>();

export function metaOf(schema: z.ZodType): OptionMeta | undefined {
  return optionMeta.get(schema);
}

function tag<T extends z.ZodType>(schema: T, meta: OptionMeta): T {
  optionMeta.set(schema, meta);
  return schema;
}

type Common = { doc: string; example?: string; role?: OptionRole; shownDefault?: string };

/** A string; `pattern` with the `allowed` text naming what it accepts; `check` a rule of its own. */
export function str(
  o: Common & {
    default?: string;
    required?: boolean;
    pattern?: RegExp;
    allowed?: string;
    check?: { ok: (s: string) => boolean; problem: string; allowed?: string }[];
  },
) {
  let s: z.ZodType<string> = z.string().min(1);
  if (o.pattern) s = (s as z.ZodString).regex(o.pattern, { error: 'is not valid' });
  for (const c of o.check ?? []) s = s.refine(c.ok, { error: c.problem, params: { allowed: c.allowed } });
  const out = o.default !== undefined ? s.default(o.default) : o.required ? s : s.optional();
  return tag(out, { kind: 'string', ...o, allowed: o.allowed ?? 'a non-empty string' });
}

/** A number within [min, max]; whole when `int`. */
export function num(o: Common & { min: number; max: number; int?: boolean; default?: number; required?: boolean }) {
  const range = `${o.int ? 'a whole number' : 'a number'} from ${o.min} to ${o.max}`;
  let n: z.ZodNumber = z.number({ error: 'is out of range or not a number' });
  if (o.int) n = n.int({ error: 'is out of range or not a number' });
  n = n
    .min(o.min, { error: 'is out of range or not a number' })
    .max(o.max, { error: 'is out of range or not a number' });
  const out = o.default !== undefined ? n.default(o.default) : o.required ? n : n.optional();
  return tag(out, { kind: 'number', ...o, allowed: range });
}

export function bool(o: Common & { default: boolean; refuse?: { value: boolean; problem: string; allowed: string } }) {
  let b: z.ZodType<boolean> = z.boolean({ error: 'must be true or false' });
  const refuse = o.refuse;
  if (refuse) b = b.refine((v) => v !== refuse.value, { error: refuse.problem, params: { allowed: refuse.allowed } });
  return tag(b.default(o.default), { kind: 'boolean', ...o, allowed: 'true, false' });
}

/** One of `values` (case-insensitive). */
export function oneOf<const V extends readonly [string, ...string[]]>(
  values: V,
  o: Common & { default?: V[number]; required?: boolean },
) {
  const e = z.enum(values, { error: 'is not one of the allowed values' });
  const out = o.default !== undefined ? e.default(o.default as never) : o.required ? e : e.optional();
  return tag(out, { kind: 'enum', ...o, allowed: values.join(', '), lower: true });
}

/** A list of strings; in the file also one string, "a, b" being two entries. */
export function list(
  o: Common & {
    item?: z.ZodType<string>;
    min?: number;
    minProblem?: string;
    entryProblem?: string;
    allowed?: string;
    required?: boolean;
    lower?: boolean;
  },
) {
  let l = z.array(o.item ?? z.string().min(1), { error: 'must be a list of strings' });
  if (o.min) l = l.min(o.min, { error: o.minProblem ?? 'is required' });
  const out = o.required ? l : l.optional();
  return tag(out, { kind: 'list', ...o });
}

/**
 * A secret: in the file as `<name>` (a value, or "${env:NAME}"), `<name>Env` (a variable's name)
 * or `<name>File` (a file holding it, owner-readable only). Spread into an object's options.
 */
export function secret<const K extends string>(key: K, o: Common & { what: string }) {
  const value = tag(z.string().optional(), {
    kind: 'secret',
    ...o,
    allowed: `${o.what}: ${key}: "\${env:NAME}", ${key}Env: NAME or ${key}File: /path`,
  });
  const env = tag(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional(),
    { kind: 'secret', doc: `environment variable holding ${key}`, role: o.role },
  );
  const file = tag(z.string().optional(), {
    kind: 'secret',
    doc: `file holding ${key} (mode 600 or 400)`,
    role: o.role,
  });
  return { [key]: value, [`${key}Env`]: env, [`${key}File`]: file } as Record<
    K | `${K}Env` | `${K}File`,
    z.ZodOptional<z.ZodString>
  >;
}

/** A nested mapping of options; absent reads as empty (its defaults apply). */
export function group<S extends z.ZodRawShape>(shape: S, o: Common & { whenGiven?: boolean }) {
  return tag(z.strictObject(shape).optional(), { kind: 'object', ...o });
}

/** Free-form, checked by its own parser (the field choice). */
export function anyValue(schema: z.ZodType, o: Common & { allowed?: string }) {
  return tag(schema.optional(), { kind: 'any', ...o });
}

/** kafka.tls: true/false, or a mapping of TLS options. */
export function tlsOrBool<S extends z.ZodRawShape>(shape: S, o: Common) {
  // A secret's …Env / …File forms are not named: caFile and certFile are options of their own.
  const names = Object.keys(shape).filter((k) => !/(Env|File)$/.test(k) || k === 'caFile' || k === 'certFile');
  const allowed = `true, false, or a mapping of ${names.join(', ')}`;
  return tag(z.union([z.boolean(), z.strictObject(shape)]).optional(), { kind: 'tlsOrBool', allowed, ...o });
}

/** The options of an object schema, whatever wraps it (optional, default). */
export function shapeOf(schema: z.ZodType): z.ZodRawShape | undefined {
  let s: z.ZodType = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodUnion) {
      const obj = s.options.find((x) => x instanceof z.ZodObject);
      if (!obj) return undefined;
      s = obj as z.ZodType;
    } else break;
  }
  return s instanceof z.ZodObject ? s.shape : undefined;
}

/** The default of an option, if it has a literal one. */
export function defaultOf(schema: z.ZodType): unknown {
  return schema instanceof z.ZodDefault ? schema.def.defaultValue : undefined;
}
