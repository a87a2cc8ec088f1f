/**
 * SOQL syntax → AST. Parses the language Salesforce accepts, including the parts Bulk API
 * refuses (aggregates, GROUP BY, OFFSET, TYPEOF, FIELDS(), parent-to-child subqueries), so the
 * compiler can refuse those with Salesforce's reasons rather than a generic syntax error.
 */
import { soqlError } from './errors';
import { Token, tokenize } from './soql-lexer';

export interface Path {
  parts: string[];
  pos: number;
}

export type SelectItem =
  | { kind: 'field'; path: Path }
  | { kind: 'function'; name: string; pos: number } // COUNT(), MAX(x), FIELDS(ALL), toLabel(x)…
  | { kind: 'subquery'; pos: number } // (SELECT … FROM Children)
  | { kind: 'typeof'; pos: number };

export type LiteralKind = 'string' | 'number' | 'boolean' | 'null' | 'datetime' | 'date' | 'dateKeyword';

export interface Literal {
  kind: LiteralKind;
  /** string value, number text, 'true'/'false', ISO text, or keyword name */
  text: string;
  /** N of LAST_N_DAYS:N and friends */
  n?: number;
  pos: number;
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'like';

export type Condition =
  | { kind: 'and' | 'or'; items: Condition[] }
  | { kind: 'not'; item: Condition }
  | { kind: 'compare'; path: Path; op: CompareOp; value: Literal; pos: number }
  | { kind: 'in'; path: Path; negate: boolean; values: Literal[]; pos: number }
  | { kind: 'semiJoin'; path: Path; negate: boolean; sub: SubQuery; pos: number }
  | { kind: 'includes'; path: Path; pos: number };

export interface SubQuery {
  select: SelectItem[];
  from: { name: string; pos: number };
  where: Condition | null;
  pos: number;
}

export interface OrderItem {
  path: Path;
  desc: boolean;
  nullsLast: boolean;
}

export interface SoqlQuery {
  text: string;
  select: SelectItem[];
  from: { name: string; pos: number };
  where: Condition | null;
  groupBy: number | null; // position of GROUP BY, when present (always refused)
  having: number | null;
  orderBy: OrderItem[];
  limit: number | null;
  offset: number | null; // position of OFFSET, when present (refused by Bulk)
}

const DATE_KEYWORDS = new Set([
  'TODAY',
  'YESTERDAY',
  'TOMORROW',
  'LAST_WEEK',
  'THIS_WEEK',
  'LAST_MONTH',
  'THIS_MONTH',
  'LAST_90_DAYS',
]);
const DATE_N_KEYWORDS = new Set(['LAST_N_DAYS', 'NEXT_N_DAYS', 'N_DAYS_AGO', 'LAST_N_HOURS']);
const CLAUSE_WORDS = new Set([
  'FROM',
  'WHERE',
  'GROUP',
  'HAVING',
  'ORDER',
  'LIMIT',
  'OFFSET',
  'FOR',
  'WITH',
  'USING',
  'AND',
  'OR',
  'NOT',
  'ASC',
  'DESC',
  'NULLS',
  'IN',
  'LIKE',
  'INCLUDES',
  'EXCLUDES',
  'SELECT',
  'ALL',
]);

class Parser {
  private i = 0;
  constructor(
    private readonly q: string,
    private readonly toks: Token[],
  ) {}

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)];
  }
  private next(): Token {
    return this.toks[this.i++];
  }
  private isWord(word: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'ident' && t.text.toUpperCase() === word;
  }
  private isPunct(p: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'punct' && t.text === p;
  }
  fail(t: Token = this.peek(), message?: string): never {
    throw soqlError('MALFORMED_QUERY', this.q, t.pos, message ?? `unexpected token: '${t.text}'`);
  }
  private expectWord(word: string): Token {
    if (!this.isWord(word)) this.fail();
    return this.next();
  }
  private expectPunct(p: string): Token {
    if (!this.isPunct(p)) this.fail();
    return this.next();
  }

  query(): SoqlQuery {
    const q = this.select();
    if (this.peek().type !== 'eof') this.fail();
    return q;
  }

  private select(): SoqlQuery {
    this.expectWord('SELECT');
    const select = this.selectList();
    this.expectWord('FROM');
    const fromTok = this.next();
    if (fromTok.type !== 'ident') this.fail(fromTok);
    const q: SoqlQuery = {
      text: this.q,
      select,
      from: { name: fromTok.text, pos: fromTok.pos },
      where: null,
      groupBy: null,
      having: null,
      orderBy: [],
      limit: null,
      offset: null,
    };
    if (this.isWord('USING')) this.fail();
    if (this.isWord('WHERE')) {
      this.next();
      q.where = this.condition();
    }
    if (this.isWord('WITH')) this.fail();
    if (this.isWord('GROUP')) {
      q.groupBy = this.next().pos;
      this.expectWord('BY');
      this.pathList();
      if (this.isWord('HAVING')) {
        q.having = this.next().pos;
        this.condition();
      }
    }
    if (this.isWord('ORDER')) {
      this.next();
      this.expectWord('BY');
      q.orderBy = this.orderList();
    }
    if (this.isWord('LIMIT')) {
      this.next();
      const t = this.next();
      if (t.type !== 'number' || !/^\d+$/.test(t.text)) this.fail(t);
      q.limit = Number(t.text);
    }
    if (this.isWord('OFFSET')) {
      q.offset = this.next().pos;
      const t = this.next();
      if (t.type !== 'number') this.fail(t);
    }
    if (this.isWord('FOR') || this.isWord('ALL')) this.fail();
    return q;
  }

  private selectList(): SelectItem[] {
    const items: SelectItem[] = [];
    for (;;) {
      items.push(this.selectItem());
      if (!this.isPunct(',')) break;
      this.next();
    }
    return items;
  }

  private selectItem(): SelectItem {
    const t = this.peek();
    if (this.isPunct('(')) {
      // parent-to-child subquery: skip to the matching parenthesis
      let depth = 0;
      do {
        const x = this.next();
        if (x.type === 'eof') this.fail(x);
        if (x.type === 'punct' && x.text === '(') depth++;
        if (x.type === 'punct' && x.text === ')') depth--;
      } while (depth > 0);
      return { kind: 'subquery', pos: t.pos };
    }
    if (t.type !== 'ident' || (CLAUSE_WORDS.has(t.text.toUpperCase()) && !this.isPunct('(', 1))) this.fail(t);
    if (t.text.toUpperCase() === 'TYPEOF') {
      while (!this.isWord('END')) {
        if (this.peek().type === 'eof') this.fail();
        this.next();
      }
      this.next();
      return { kind: 'typeof', pos: t.pos };
    }
    if (this.isPunct('(', 1)) {
      this.next();
      this.next();
      let depth = 1;
      while (depth > 0) {
        const x = this.next();
        if (x.type === 'eof') this.fail(x);
        if (x.type === 'punct' && x.text === '(') depth++;
        if (x.type === 'punct' && x.text === ')') depth--;
      }
      // optional alias: COUNT(Id) cnt
      if (this.peek().type === 'ident' && !CLAUSE_WORDS.has(this.peek().text.toUpperCase())) this.next();
      return { kind: 'function', name: t.text.toUpperCase(), pos: t.pos };
    }
    return { kind: 'field', path: this.path() };
  }

  private path(): Path {
    const first = this.next();
    if (first.type !== 'ident') this.fail(first);
    const parts = [first.text];
    while (this.isPunct('.')) {
      this.next();
      const t = this.next();
      if (t.type !== 'ident') this.fail(t);
      parts.push(t.text);
    }
    return { parts, pos: first.pos };
  }

  private pathList(): Path[] {
    const out = [this.path()];
    while (this.isPunct(',')) {
      this.next();
      out.push(this.path());
    }
    return out;
  }

  private orderList(): OrderItem[] {
    const out: OrderItem[] = [];
    for (;;) {
      const path = this.path();
      let desc = false;
      if (this.isWord('ASC')) this.next();
      else if (this.isWord('DESC')) {
        this.next();
        desc = true;
      }
      let nullsLast = false;
      if (this.isWord('NULLS')) {
        this.next();
        if (this.isWord('LAST')) nullsLast = true;
        else if (!this.isWord('FIRST')) this.fail();
        this.next();
      }
      out.push({ path, desc, nullsLast });
      if (!this.isPunct(',')) return out;
      this.next();
    }
  }

  /** Salesforce refuses AND and OR mixed at one level without parentheses. */
  condition(): Condition {
    const first = this.unary();
    let joiner: 'and' | 'or' | null = null;
    const items = [first];
    while (this.isWord('AND') || this.isWord('OR')) {
      const t = this.next();
      const kind = t.text.toLowerCase() as 'and' | 'or';
      if (joiner && joiner !== kind) this.fail(t);
      joiner = kind;
      items.push(this.unary());
    }
    return joiner ? { kind: joiner, items } : first;
  }

  private unary(): Condition {
    if (this.isWord('NOT')) {
      this.next();
      return { kind: 'not', item: this.unary() };
    }
    if (this.isPunct('(')) {
      this.next();
      const c = this.condition();
      this.expectPunct(')');
      return c;
    }
    return this.comparison();
  }

  private comparison(): Condition {
    const path = this.path();
    const t = this.peek();
    if (t.type === 'op') {
      this.next();
      return { kind: 'compare', path, op: t.text as CompareOp, value: this.literal(), pos: t.pos };
    }
    if (this.isWord('LIKE')) {
      this.next();
      return { kind: 'compare', path, op: 'like', value: this.literal(), pos: t.pos };
    }
    if (this.isWord('INCLUDES') || this.isWord('EXCLUDES')) {
      this.next();
      this.literalList();
      return { kind: 'includes', path, pos: t.pos };
    }
    let negate = false;
    if (this.isWord('NOT') && this.isWord('IN', 1)) {
      this.next();
      negate = true;
    }
    if (this.isWord('IN')) {
      this.next();
      if (this.isPunct('(') && this.isWord('SELECT', 1)) {
        const open = this.next();
        const sub = this.subQuery(open.pos);
        this.expectPunct(')');
        return { kind: 'semiJoin', path, negate, sub, pos: t.pos };
      }
      return { kind: 'in', path, negate, values: this.literalList(), pos: t.pos };
    }
    return this.fail(t);
  }

  private subQuery(pos: number): SubQuery {
    this.expectWord('SELECT');
    const select = this.selectList();
    this.expectWord('FROM');
    const fromTok = this.next();
    if (fromTok.type !== 'ident') this.fail(fromTok);
    let where: Condition | null = null;
    if (this.isWord('WHERE')) {
      this.next();
      where = this.condition();
    }
    return { select, from: { name: fromTok.text, pos: fromTok.pos }, where, pos };
  }

  private literalList(): Literal[] {
    this.expectPunct('(');
    const out = [this.literal()];
    while (this.isPunct(',')) {
      this.next();
      out.push(this.literal());
    }
    this.expectPunct(')');
    return out;
  }

  private literal(): Literal {
    const t = this.next();
    switch (t.type) {
      case 'string':
        return { kind: 'string', text: t.text, pos: t.pos };
      case 'number':
        return { kind: 'number', text: t.text, pos: t.pos };
      case 'datetime':
        return { kind: 'datetime', text: t.text, pos: t.pos };
      case 'date':
        return { kind: 'date', text: t.text, pos: t.pos };
      case 'ident': {
        const w = t.text.toUpperCase();
        if (w === 'TRUE' || w === 'FALSE') return { kind: 'boolean', text: w.toLowerCase(), pos: t.pos };
        if (w === 'NULL') return { kind: 'null', text: 'null', pos: t.pos };
        if (DATE_KEYWORDS.has(w)) return { kind: 'dateKeyword', text: w, pos: t.pos };
        if (DATE_N_KEYWORDS.has(w)) {
          this.expectPunct(':');
          const n = this.next();
          if (n.type !== 'number' || !/^\d+$/.test(n.text)) this.fail(n);
          return { kind: 'dateKeyword', text: w, n: Number(n.text), pos: t.pos };
        }
        return this.fail(t);
      }
      default:
        return this.fail(t);
    }
  }
}

/** Parses a SOQL query; throws SfError(400, MALFORMED_QUERY) with Salesforce's error layout. */
export function parseSoql(text: string): SoqlQuery {
  return new Parser(text, tokenize(text)).query();
}
