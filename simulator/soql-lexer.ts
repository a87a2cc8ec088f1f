/**
 * SOQL tokens. Keywords are case-insensitive and are recognised by the parser, not here.
 */
import { soqlError } from './errors';

export type TokenType = 'ident' | 'string' | 'number' | 'datetime' | 'date' | 'op' | 'punct' | 'eof';

export interface Token {
  type: TokenType;
  /** Source text, or the unescaped value for strings. */
  text: string;
  pos: number;
}

const DATETIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})/y;
const DATE = /\d{4}-\d{2}-\d{2}(?![\dT])/y;
const NUMBER = /[+-]?\d+(\.\d+)?(?![\w.])/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
  _: '\\_',
  '%': '\\%',
};

function sticky(re: RegExp, s: string, pos: number): string | null {
  re.lastIndex = pos;
  const m = re.exec(s);
  return m ? m[0] : null;
}

export function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      // LIKE keeps \_ and \% escaped so the pattern can tell them from wildcards.
      let v = '';
      let j = i + 1;
      for (;;) {
        if (j >= q.length)
          throw soqlError('MALFORMED_QUERY', q, i, 'line 1:' + i + " mismatched character '<EOF>' expecting '''");
        const d = q[j];
        if (d === '\\') {
          const e = ESCAPES[q[j + 1]];
          if (e === undefined)
            throw soqlError(
              'MALFORMED_QUERY',
              q,
              j,
              `Invalid string literal '${q.slice(i, j + 2)}'. Illegal character sequence ` +
                `'\\${q[j + 1] ?? ''}' in string literal.`,
            );
          v += e;
          j += 2;
        } else if (d === "'") {
          break;
        } else {
          v += d;
          j++;
        }
      }
      out.push({ type: 'string', text: v, pos: i });
      i = j + 1;
      continue;
    }
    const dt = sticky(DATETIME, q, i);
    if (dt) {
      out.push({ type: 'datetime', text: dt, pos: i });
      i += dt.length;
      continue;
    }
    const d = sticky(DATE, q, i);
    if (d) {
      out.push({ type: 'date', text: d, pos: i });
      i += d.length;
      continue;
    }
    const n = sticky(NUMBER, q, i);
    if (
      n &&
      (/\d/.test(c) ||
        out.length === 0 ||
        out[out.length - 1].type === 'op' ||
        out[out.length - 1].text === '(' ||
        out[out.length - 1].text === ',')
    ) {
      out.push({ type: 'number', text: n, pos: i });
      i += n.length;
      continue;
    }
    const id = sticky(IDENT, q, i);
    if (id) {
      out.push({ type: 'ident', text: id, pos: i });
      i += id.length;
      continue;
    }
    const two = q.slice(i, i + 2);
    if (two === '!=' || two === '<>' || two === '<=' || two === '>=') {
      out.push({ type: 'op', text: two === '<>' ? '!=' : two, pos: i });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      out.push({ type: 'op', text: c, pos: i });
      i++;
      continue;
    }
    if ('(),.:'.includes(c)) {
      out.push({ type: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    throw soqlError('MALFORMED_QUERY', q, i, `unexpected token: '${c}'`);
  }
  out.push({ type: 'eof', text: '<EOF>', pos: q.length });
  return out;
}
