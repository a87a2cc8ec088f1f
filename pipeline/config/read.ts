import type { z } from 'zod';
import type { Issues } from './issues';
import { metaOf, shapeOf, type OptionMeta } from './options';
import { insecureFileProblem, interpolate, type SecretSources } from './secrets';

type Plain = Record<string, unknown>;
export type Values = Record<string, unknown>;

/** What reading one file shares: sources, the secrets found, the file-permission policy. */
export interface ReadContext {
  issues: Issues;
  sources: SecretSources;
  /** Every secret value resolved, for scrubbing logs and output. */
  secrets: string[];
  allowInsecureSecretFiles: boolean;
  /** Secret options whose value is written in the file itself (the file is then a secret file). */
  literalSecrets: string[];
}

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads one mapping of the file against its part of the schema (schema.ts), option by option,
 * so that every bad option is reported (field path, masked value, what is allowed) and the
 * others still read: the result holds each valid option with its default filled in, and
 * nothing for a bad one. ${env:NAME} is replaced in every string; secrets are resolved from one
 * of their three forms. Options of the file that the schema does not know are errors, except
 * `unread` (the other role's options, which this process does not read at all).
 */
export function readObject(
  shape: z.ZodRawShape,
  raw: Plain,
  path: string,
  ctx: ReadContext,
  unread: ReadonlySet<string> = new Set(),
): Values {
  const out: Values = {};
  const field = (k: string) => (path ? `${path}.${k}` : k);
  const secretForms = new Set<string>();
  for (const [key, schema] of Object.entries(shape)) {
    if (metaOf(schema as z.ZodType)?.kind === 'secret' && shape[`${key}Env`] && shape[`${key}File`]) {
      secretForms.add(`${key}Env`).add(`${key}File`);
    }
  }
  for (const [key, s] of Object.entries(shape)) {
    const schema = s as z.ZodType;
    if (secretForms.has(key) || unread.has(key)) continue;
    const meta = metaOf(schema);
    if (!meta) throw new Error(`config schema: ${field(key)} has no metadata`);
    if (meta.kind === 'secret') {
      out[key] = readSecret(raw, key, field(key), ctx);
      continue;
    }
    const v = raw[key];
    if (meta.whenGiven && (v === undefined || v === null)) continue;
    if (meta.kind === 'object' || (meta.kind === 'tlsOrBool' && isPlain(v))) {
      if (v !== undefined && v !== null && !isPlain(v))
        ctx.issues.add(field(key), 'must be a mapping of options', { value: v });
      out[key] = readObject(shapeOf(schema)!, isPlain(v) ? v : {}, field(key), ctx);
      continue;
    }
    out[key] = readLeaf(schema, meta, v, field(key), ctx);
  }
  for (const key of Object.keys(raw)) {
    if (!(key in shape) && raw[key] !== undefined) {
      ctx.issues.add(field(key), 'is not a known option', { allowed: Object.keys(shape).sort().join(', ') });
    }
  }
  return out;
}

/** A value as written, ${env:…} replaced; undefined (reported) when a variable is missing. */
function expand(v: unknown, name: string, ctx: ReadContext): { ok: boolean; value: unknown } {
  if (typeof v !== 'string') return { ok: true, value: v };
  const { text, missing } = interpolate(v, ctx.sources.env);
  if (missing.length === 0) return { ok: true, value: text };
  const are = missing.length > 1;
  ctx.issues.add(
    name,
    `refers to environment variable${are ? 's' : ''} ${missing.join(', ')}, which ${are ? 'are' : 'is'} not set`,
    {
      allowed: 'set the variable, or write the value',
    },
  );
  return { ok: false, value: undefined };
}

/** The file's spelling turned into the schema's type: "42" a number, "a, b" a list, "True" true. */
function normalize(meta: OptionMeta, v: unknown): unknown {
  if (v === null || v === '') return undefined;
  switch (meta.kind) {
    case 'string':
      return typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : v;
    case 'enum':
      return typeof v === 'string' ? v.trim().toLowerCase() : v;
    case 'number':
      return typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
    case 'boolean':
    case 'tlsOrBool':
      return v === 'true' ? true : v === 'false' ? false : v;
    case 'list': {
      const items =
        typeof v === 'string' ? v.split(',') : Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : null;
      if (!items) return v;
      const trimmed = (items as string[]).map((s) => s.trim()).filter(Boolean);
      return meta.lower ? trimmed.map((s) => s.toLowerCase()) : trimmed;
    }
    default:
      return v;
  }
}

function readLeaf(schema: z.ZodType, meta: OptionMeta, written: unknown, name: string, ctx: ReadContext): unknown {
  let v = written;
  if (Array.isArray(v)) {
    const parts = v.map((x) => expand(x, name, ctx));
    if (parts.some((p) => !p.ok)) return undefined;
    v = parts.map((p) => p.value);
  } else {
    const e = expand(v, name, ctx);
    if (!e.ok) return undefined;
    v = e.value;
  }
  const value = normalize(meta, v);
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = meta.kind === 'list' ? r.error.issues : r.error.issues.slice(0, 1);
  for (const i of issues) {
    const allowed = (i as { params?: { allowed?: string } }).params?.allowed ?? meta.allowed;
    if (value === undefined) {
      ctx.issues.add(name, 'is required', { allowed });
      continue;
    }
    const entry = meta.kind === 'list' && typeof i.path[0] === 'number' && Array.isArray(value);
    const problem =
      (i.code === 'invalid_type' || i.code === 'invalid_union') && !entry
        ? typeMessage(meta)
        : entry && !meta.entryProblem && i.code === 'invalid_type'
          ? 'must be a list of strings'
          : i.message;
    ctx.issues.add(name, problem, { value: entry ? (value as unknown[])[i.path[0] as number] : value, allowed });
  }
  return undefined;
}

function typeMessage(meta: OptionMeta): string {
  switch (meta.kind) {
    case 'number':
      return 'is out of range or not a number';
    case 'boolean':
      return 'must be true or false';
    case 'list':
      return 'must be a list of strings';
    case 'enum':
      return 'is not one of the allowed values';
    case 'tlsOrBool':
      return 'must be true, false or a mapping of TLS options';
    default:
      return 'must be a string';
  }
}

/**
 * A secret, from exactly one of `<key>`, `<key>Env` or `<key>File`; undefined when absent or
 * bad (reported). Its value joins `secrets`; every message about it shows *** instead.
 */
function readSecret(raw: Plain, key: string, name: string, ctx: ReadContext): string | undefined {
  const given = [key, `${key}Env`, `${key}File`].filter((k) => raw[k] !== undefined && raw[k] !== null);
  if (given.length > 1) {
    ctx.issues.add(name, `is given ${given.length} ways (${given.join(', ')})`, {
      allowed: `exactly one of ${key}, ${key}Env, ${key}File`,
    });
    return undefined;
  }
  const base = name.slice(0, name.length - key.length);
  let value: string | undefined;
  if (raw[key] !== undefined && raw[key] !== null) {
    const direct = raw[key];
    if (typeof direct !== 'string') return ctx.issues.add(name, 'must be a string', { value: direct, secret: true });
    const e = expand(direct, name, ctx);
    if (!e.ok) return undefined;
    // Written in the file itself (not ${env:…}): the config file is then a secret file too.
    if (e.value === direct) ctx.literalSecrets.push(name);
    value = e.value as string;
  } else if (raw[`${key}Env`] !== undefined && raw[`${key}Env`] !== null) {
    const envName = expand(raw[`${key}Env`], `${base}${key}Env`, ctx).value;
    if (typeof envName !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(envName)) {
      return ctx.issues.add(`${base}${key}Env`, 'is not an environment variable name', {
        value: envName,
        allowed: 'letters, digits and _',
      });
    }
    value = ctx.sources.env[envName];
    if (value === undefined || value === '') {
      return ctx.issues.add(`${base}${key}Env`, `names environment variable ${envName}, which is not set`, {
        allowed: `export ${envName}=…`,
      });
    }
  } else if (raw[`${key}File`] !== undefined && raw[`${key}File`] !== null) {
    const fileName = `${base}${key}File`;
    const e = expand(raw[`${key}File`], fileName, ctx);
    if (!e.ok) return undefined;
    const file = e.value;
    if (typeof file !== 'string' || file === '')
      return ctx.issues.add(fileName, 'must be a file path', { value: file });
    const insecure = insecureFileProblem(file, ctx.sources, ctx.allowInsecureSecretFiles);
    if (insecure) return ctx.issues.add(fileName, insecure.problem, { value: file, allowed: insecure.allowed });
    try {
      value = ctx.sources.readFile(file).replace(/\r?\n$/, '');
    } catch (err) {
      return ctx.issues.add(fileName, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
        value: file,
        allowed: 'a readable file',
      });
    }
    if (value === '') return ctx.issues.add(fileName, 'is empty', { value: file });
  }
  if (value === undefined || value === '') return undefined;
  ctx.secrets.push(value);
  return value;
}
