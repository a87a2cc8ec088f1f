/**
 * Which users a connector imports, beyond their status: user types, profiles and an optional
 * WHERE condition. The condition is a configuration string, so it never reaches SOQL as text:
 *
 *   parse (here, independent of any simulator) → check every field against the org's describe
 *   (filterable, the literal's type fits) → print SOQL from the tree, with canonical field names
 *   from describe and every literal quoted by code.
 *
 * Grammar (a subset of SOQL's WHERE): condition := term (OR term)* | term (AND term)*, mixing AND
 * and OR needs parentheses (as in SOQL); term := NOT term | ( condition ) | field op literal |
 * field [NOT] IN ( literal, … ) | field LIKE 'text'. op: = != <> < <= > >=. Literals: 'text'
 * (\' and \\ escapes), numbers, true, false, null, YYYY-MM-DD, ISO datetimes (…Z), and the date
 * literals TODAY, YESTERDAY, THIS_/LAST_/NEXT_ WEEK|MONTH|QUARTER|YEAR, LAST_N_DAYS:n, NEXT_N_DAYS:n.
 * No subqueries, functions or other operators: anything else is refused, naming the position.
 */
import { FatalError } from '../../kernel/errors';
import type { Describer, FieldDescribe } from './describe';

export interface UserFilterOptions {
  /** Import only these UserType values (e.g. Standard). */
  userTypes?: string[];
  /** Leave out these UserType values (e.g. AutomatedProcess, Guest, CloudIntegrationUser). */
  excludeUserTypes?: string[];
  /** Import only users whose profile has one of these names. */
  profiles?: string[];
  /** An extra condition on User, in the grammar above. */
  where?: string;
}

type Lit =
  | { t: 'string'; v: string }
  | { t: 'number'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'null' }
  | { t: 'date'; v: string }
  | { t: 'datetime'; v: string }
  | { t: 'dateLiteral'; v: string };

export type Cond =
  | { kind: 'and'; items: Cond[] }
  | { kind: 'or'; items: Cond[] }
  | { kind: 'not'; item: Cond }
  | { kind: 'cmp'; field: string; op: string; value: Lit; pos: number }
  | { kind: 'in'; field: string; negated: boolean; values: Lit[]; pos: number };

interface Tok {
  type: 'word' | 'string' | 'number' | 'op' | '(' | ')' | ',';
  text: string;
  pos: number;
}

const DATE_LITERAL = new RegExp(
  '^(TODAY|YESTERDAY|TOMORROW|(THIS|LAST|NEXT)_(WEEK|MONTH|QUARTER|YEAR|FISCAL_QUARTER|FISCAL_YEAR)' +
    '|(LAST|NEXT)_N_(DAYS|WEEKS|MONTHS|QUARTERS|YEARS):\\d{1,4}|LAST_90_DAYS|NEXT_90_DAYS)$',
  'i',
);
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;
/** One token that is not punctuation: a datetime, a date, a number, or a word (name, keyword, date literal). */
const WORD = new RegExp(
  '^(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?(Z|[+-]\\d{2}:\\d{2})|\\d{4}-\\d{2}-\\d{2}' +
    '|-?\\d+(\\.\\d+)?|[A-Za-z_][A-Za-z0-9_.]*(:\\d+)?)',
);
const NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){0,4}$/;

function fail(where: string, pos: number, why: string): never {
  throw new FatalError(
    'CONFIG_INVALID',
    `userFilter.where: ${why} at character ${pos + 1} of ${JSON.stringify(where)}`,
  );
}

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      out.push({ type: c, text: c, pos: i });
      i++;
      continue;
    }
    if (c === "'") {
      let v = '';
      let j = i + 1;
      for (; j < src.length && src[j] !== "'"; j++) {
        if (src[j] === '\\') {
          const e = src[++j];
          const map: Record<string, string> = {
            n: '\n',
            r: '\r',
            t: '\t',
            b: '\b',
            f: '\f',
            '"': '"',
            "'": "'",
            '\\': '\\',
            '%': '\\%',
            _: '\\_',
          };
          if (e === undefined || !(e in map)) fail(src, j, 'unknown escape in a text literal');
          v += map[e];
        } else v += src[j];
      }
      if (j >= src.length) fail(src, i, 'unterminated text literal');
      out.push({ type: 'string', text: v, pos: i });
      i = j + 1;
      continue;
    }
    const op = /^(<=|>=|!=|<>|=|<|>)/.exec(src.slice(i));
    if (op) {
      out.push({ type: 'op', text: op[1] === '<>' ? '!=' : op[1], pos: i });
      i += op[1].length;
      continue;
    }
    const word = WORD.exec(src.slice(i));
    if (!word) fail(src, i, `unexpected ${JSON.stringify(c)}`);
    out.push({
      type: /^-?\d/.test(word[1]) && !DATE.test(word[1]) && !DATETIME.test(word[1]) ? 'number' : 'word',
      text: word[1],
      pos: i,
    });
    i += word[1].length;
  }
  return out;
}

/** Parses the condition (syntax only); throws CONFIG_INVALID naming the position. */
export function parseWhere(src: string): Cond {
  const toks = lex(src);
  let k = 0;
  const peek = () => toks[k];
  const kw = (t: Tok | undefined, w: string) => t?.type === 'word' && t.text.toUpperCase() === w;
  const end = () => fail(src, src.length, 'unexpected end of the condition');

  function condition(): Cond {
    const first = term();
    const op = kw(peek(), 'AND') ? 'and' : kw(peek(), 'OR') ? 'or' : null;
    if (!op) return first;
    const items = [first];
    while (kw(peek(), op.toUpperCase())) {
      k++;
      items.push(term());
    }
    if (kw(peek(), 'AND') || kw(peek(), 'OR')) fail(src, peek().pos, 'AND and OR mixed without parentheses');
    return op === 'and' ? { kind: 'and', items } : { kind: 'or', items };
  }

  function term(): Cond {
    const t = peek() ?? end();
    if (kw(t, 'NOT')) {
      k++;
      return { kind: 'not', item: term() };
    }
    if (t.type === '(') {
      k++;
      const c = condition();
      if (peek()?.type !== ')') fail(src, peek()?.pos ?? src.length, 'expected )');
      k++;
      return c;
    }
    if (
      t.type !== 'word' ||
      !NAME.test(t.text) ||
      ['AND', 'OR', 'IN', 'LIKE', 'NULL', 'TRUE', 'FALSE'].includes(t.text.toUpperCase())
    )
      fail(src, t.pos, 'expected a field name');
    k++;
    const next = peek() ?? end();
    if (kw(next, 'NOT') || kw(next, 'IN')) {
      const negated = kw(next, 'NOT');
      if (negated) {
        k++;
        if (!kw(peek(), 'IN')) fail(src, peek()?.pos ?? src.length, 'expected IN after NOT');
      }
      k++;
      if (peek()?.type !== '(') fail(src, peek()?.pos ?? src.length, 'expected ( after IN');
      k++;
      const values: Lit[] = [literal()];
      while (peek()?.type === ',') {
        k++;
        values.push(literal());
      }
      if (peek()?.type !== ')')
        fail(src, peek()?.pos ?? src.length, 'expected , or ) in the IN list (subqueries are not allowed)');
      k++;
      return { kind: 'in', field: t.text, negated, values, pos: t.pos };
    }
    if (kw(next, 'LIKE')) {
      k++;
      return { kind: 'cmp', field: t.text, op: 'LIKE', value: literal(), pos: t.pos };
    }
    if (next.type !== 'op') fail(src, next.pos, 'expected an operator (= != < <= > >= LIKE IN NOT IN)');
    k++;
    return { kind: 'cmp', field: t.text, op: next.text, value: literal(), pos: t.pos };
  }

  function literal(): Lit {
    const t = peek() ?? end();
    k++;
    if (t.type === 'string') return { t: 'string', v: t.text };
    if (t.type === 'number') return { t: 'number', v: t.text };
    if (t.type === 'word') {
      const u = t.text.toUpperCase();
      if (u === 'TRUE' || u === 'FALSE') return { t: 'bool', v: u === 'TRUE' };
      if (u === 'NULL') return { t: 'null' };
      if (DATETIME.test(t.text)) return { t: 'datetime', v: t.text };
      if (DATE.test(t.text)) return { t: 'date', v: t.text };
      if (DATE_LITERAL.test(t.text)) return { t: 'dateLiteral', v: u };
    }
    return fail(
      src,
      t.pos,
      `expected a literal ('text', a number, true, false, null or a date), got ${JSON.stringify(t.text)}`,
    );
  }

  if (toks.length === 0) fail(src, 0, 'is empty');
  const c = condition();
  if (k < toks.length) fail(src, toks[k].pos, `unexpected ${JSON.stringify(toks[k].text)}`);
  return c;
}

const TEXT = [
  'string',
  'picklist',
  'multipicklist',
  'combobox',
  'email',
  'phone',
  'url',
  'id',
  'reference',
  'textarea',
];
const NUMBER = ['int', 'double', 'currency', 'percent', 'long'];

/** A SOQL text literal, quoted by code. */
export function quote(v: string): string {
  const escaped = v
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "\\'")
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return `'${escaped}'`;
}

function printLit(l: Lit): string {
  switch (l.t) {
    case 'string':
      return quote(l.v);
    case 'number':
      return String(Number(l.v));
    case 'bool':
      return l.v ? 'true' : 'false';
    case 'null':
      return 'null';
    default:
      return l.v; // dates and date literals: matched by strict patterns above
  }
}

function fits(type: string, l: Lit, op: string): boolean {
  if (l.t === 'null') return op === '=' || op === '!=';
  if (op === 'LIKE') return TEXT.includes(type) && l.t === 'string';
  if (TEXT.includes(type)) return l.t === 'string';
  if (type === 'boolean') return l.t === 'bool' && (op === '=' || op === '!=');
  if (NUMBER.includes(type)) return l.t === 'number';
  if (type === 'date') return l.t === 'date' || l.t === 'dateLiteral';
  if (type === 'datetime') return l.t === 'datetime' || l.t === 'dateLiteral';
  return false;
}

/** Resolves a field or parent path on User against describe: canonical spelling and the field. */
async function resolve(path: string, describe: Describer): Promise<{ name: string; field: FieldDescribe } | string> {
  let obj = await describe('User');
  const parts = path.split('.');
  const canonical: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (!obj) return `the object before ${parts[i]} is not visible to the integration user`;
    const fields = obj.fields.filter((f) => !f.deprecatedAndHidden);
    if (i === parts.length - 1) {
      const f = fields.find((x) => x.name.toLowerCase() === parts[i].toLowerCase());
      if (!f) return `${path} is not a field in this org's describe`;
      canonical.push(f.name);
      return { name: canonical.join('.'), field: f };
    }
    const ref = fields.find((x) => x.relationshipName?.toLowerCase() === parts[i].toLowerCase());
    if (!ref?.relationshipName || ref.referenceTo?.length !== 1)
      return `${parts[i]} is not a relationship of ${obj.name}`;
    canonical.push(ref.relationshipName);
    obj = await describe(ref.referenceTo[0]);
  }
  return `${path} is not a field`;
}

/** Checks the tree against describe and prints it as SOQL (names from describe, literals quoted). */
export async function whereToSoql(src: string, cond: Cond, describe: Describer): Promise<string> {
  const print = async (c: Cond, top: boolean): Promise<string> => {
    if (c.kind === 'and' || c.kind === 'or') {
      const inner = (await Promise.all(c.items.map((i) => print(i, false)))).join(c.kind === 'and' ? ' AND ' : ' OR ');
      return top ? inner : `(${inner})`;
    }
    if (c.kind === 'not') return `(NOT ${await print(c.item, false)})`;
    const r = await resolve(c.field, describe);
    if (typeof r === 'string') fail(src, c.pos, r);
    const f = r as { name: string; field: FieldDescribe & { filterable?: boolean } };
    if (f.field.filterable === false)
      fail(src, c.pos, `${f.name} cannot be filtered on (Salesforce describes it as not filterable)`);
    const type = f.field.type.toLowerCase();
    if (c.kind === 'in') {
      for (const v of c.values)
        if (v.t === 'null' || !fits(type, v, '='))
          fail(src, c.pos, `a value in the IN list does not fit ${f.name} (${type})`);
      return `${f.name} ${c.negated ? 'NOT IN' : 'IN'} (${c.values.map(printLit).join(', ')})`;
    }
    if (!fits(type, c.value, c.op)) fail(src, c.pos, `${c.op} ${printLit(c.value)} does not fit ${f.name} (${type})`);
    return `${f.name} ${c.op} ${printLit(c.value)}`;
  };
  return print(cond, true);
}

/**
 * The SOQL conditions on User of a filter, checked against describe (user types against the
 * UserType picklist). Empty when there is no filter.
 */
export async function userFilterConditions(filter: UserFilterOptions, describe: Describer): Promise<string[]> {
  const out: string[] = [];
  const user = await describe('User');
  const types = new Set(
    (
      user?.fields.find((f) => f.name === 'UserType') as { picklistValues?: { value: string }[] } | undefined
    )?.picklistValues?.map((p) => p.value) ?? [],
  );
  for (const [key, list, op] of [
    ['userTypes', filter.userTypes, 'IN'],
    ['excludeUserTypes', filter.excludeUserTypes, 'NOT IN'],
  ] as const) {
    if (!list || list.length === 0) continue;
    for (const t of list) {
      if (types.size > 0 && !types.has(t)) {
        throw new FatalError(
          'CONFIG_INVALID',
          `userFilter.${key}: ${JSON.stringify(t)} is not a UserType of this org; its values: ${[...types].join(', ')}`,
        );
      }
    }
    out.push(`UserType ${op} (${list.map(quote).join(', ')})`);
  }
  if (filter.profiles && filter.profiles.length > 0) {
    const r = await resolve('Profile.Name', describe);
    if (typeof r === 'string') {
      throw new FatalError(
        'SALESFORCE_PERMISSION_MISSING',
        'userFilter.profiles: Profile is not visible to the integration user, so users cannot be ' +
          'filtered by profile; make Profile readable for it (check with connector check) ' +
          'or remove userFilter.profiles',
      );
    }
    out.push(`Profile.Name IN (${filter.profiles.map(quote).join(', ')})`);
  }
  if (filter.where && filter.where.trim() !== '')
    out.push(`(${await whereToSoql(filter.where, parseWhere(filter.where), describe)})`);
  return out;
}
