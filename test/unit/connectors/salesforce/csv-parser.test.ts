import { parse as csvParseSync } from 'csv-parse/sync';
import { CsvParser, CsvSyntaxError, type CsvParserOptions } from '../../../../connectors/salesforce/csv-parser';
import { mulberry32 as prng } from '../../../../simulator/prng';

/** Feeds the chunks one by one, then ends; returns every record. */
function parseChunks(chunks: readonly Uint8Array[], opts?: CsvParserOptions): string[][] {
  const p = new CsvParser(opts);
  const out: string[][] = [];
  for (const c of chunks) out.push(...p.push(c));
  out.push(...p.end());
  return out;
}

/** Cuts the UTF-8 bytes of `text` into chunks of the sizes `size()` returns (the last may be shorter). */
function chunked(text: string, size: () => number): Uint8Array[] {
  const bytes = Buffer.from(text, 'utf8');
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = size();
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

const WHOLE = (): number => Number.MAX_SAFE_INTEGER;
const CHUNKINGS: [string, () => number][] = [
  ['whole', WHOLE],
  ['1-byte chunks', () => 1],
  ['3-byte chunks', () => 3],
];

function parseText(text: string, size: () => number = WHOLE, opts?: CsvParserOptions): string[][] {
  return parseChunks(chunked(text, size), opts);
}

/** The error a parse throws (fails the test if it throws none, or something else). */
function syntaxError(run: () => unknown): CsvSyntaxError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CsvSyntaxError);
    return err as CsvSyntaxError;
  }
  throw new Error('expected a CsvSyntaxError, the parse succeeded');
}

describe('CsvParser', () => {
  const cases: [string, string, string[][], CsvParserOptions?][] = [
    [
      'LF endings',
      'a,b\nc,d\n',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    [
      'CRLF endings',
      'a,b\r\nc,d\r\n',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    ['mixed endings', 'a\r\nb\nc\r\n', [['a'], ['b'], ['c']]],
    [
      'no final line break',
      'a,b\nc,d',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    ['no final line break after a quoted field', 'a,"b"', [['a', 'b']]],
    ['an empty input', '', []],
    ['a lone line break (one empty line)', '\n', [['']]],
    ['an empty line in the middle', 'a\n\nb\n', [['a'], [''], ['b']]],
    ['an empty CRLF line in the middle', 'a\r\n\r\nb', [['a'], [''], ['b']]],
    ['one final line break (no extra record)', 'a\n', [['a']]],
    ['an empty line before the final line break', 'a\n\n', [['a'], ['']]],
    [
      'empty fields',
      ',,\na,,b\n',
      [
        ['', '', ''],
        ['a', '', 'b'],
      ],
    ],
    [
      'a trailing delimiter (an empty last field)',
      'a,b,\nc,d,\r\n',
      [
        ['a', 'b', ''],
        ['c', 'd', ''],
      ],
    ],
    ['a trailing delimiter at the end of input', 'a,', [['a', '']]],
    ['quoted fields', '"a","b c"\n', [['a', 'b c']]],
    ['escaped quotes', '"say ""hi""","""",""""""\n', [['say "hi"', '"', '""']]],
    ['an empty quoted field', '"",x,""\n""', [['', 'x', ''], ['']]],
    ['delimiter, CRLF and LF inside quotes', '"l1\r\nl2","a\nb","c,d","\r"\n', [['l1\r\nl2', 'a\nb', 'c,d', '\r']]],
    ['quoted fields then CRLF', '"a"\r\n"b"\r\n', [['a'], ['b']]],
    ['a BOM at the start', '\ufeffa,b\n', [['a', 'b']]],
    ['a BOM before a quoted field', '\ufeff"a",b', [['a', 'b']]],
    ['only a BOM', '\ufeff', []],
    ['a BOM after the start (text)', 'a\n\ufeffb\n', [['a'], ['\ufeffb']]],
    ['a lone CR (text of its field)', 'a\rb,c\r\r\n', [['a\rb', 'c\r']]],
    ['a CR at the end of input (text)', 'a,b\r', [['a', 'b\r']]],
    ['spaces kept', ' a , b \n', [[' a ', ' b ']]],
    ['unicode', 'Zoë,日本語,"😀 ""ok""",€\n', [['Zoë', '日本語', '😀 "ok"', '€']]],
    ['ragged rows', 'a,b,c\nd\n', [['a', 'b', 'c'], ['d']]],
    ['TAB delimiter', 'a\tb,c\t"d\te"\t\n', [['a', 'b,c', 'd\te', '']], { delimiter: '\t' }],
    ['PIPE delimiter', 'a|"b|c"|\n"|"', [['a', 'b|c', ''], ['|']], { delimiter: '|' }],
    ['SEMICOLON delimiter', 'a;"b;c";d,e\n', [['a', 'b;c', 'd,e']], { delimiter: ';' }],
    ['CARET delimiter', 'a^"^"\n', [['a', '^']], { delimiter: '^' }],
    ['BACKQUOTE delimiter', 'a`"`"\n', [['a', '`']], { delimiter: '`' }],
  ];

  // Every row gets its options: jest would take a parameter beyond the row's length for `done`.
  const rows = cases.map(([name, text, expected, opts = {}]) => [name, text, expected, opts] as const);
  describe.each(CHUNKINGS)('%s', (_, size) => {
    it.each(rows)('%s', (_name, text, expected, opts) => {
      expect(parseText(text, size, opts)).toEqual(expected);
    });
  });

  it('returns each record from the push that completes it', () => {
    const p = new CsvParser();
    expect(p.push(Buffer.from('h1,h2\nx,"y'))).toEqual([['h1', 'h2']]);
    expect(p.push(Buffer.from('"'))).toEqual([]); // a closing quote or the first of "": unknown yet
    expect(p.push(Buffer.from('"z"\r'))).toEqual([]); // a CR: CRLF or an error, unknown yet
    expect(p.push(Buffer.from('\nlast'))).toEqual([['x', 'y"z']]);
    expect(p.end()).toEqual([['last']]);
  });

  it('decodes a 4-byte emoji and a BOM split at every byte boundary', () => {
    const text = '\ufeff"😀",😀é\n';
    const bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const chunks = [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)];
        expect(parseChunks(chunks)).toEqual([['😀', '😀é']]);
      }
    }
  });

  it('rejects a delimiter it cannot use and a limit that is not a positive integer', () => {
    for (const delimiter of ['', ',,', '"', '\n', '\r']) expect(() => new CsvParser({ delimiter })).toThrow(RangeError);
    for (const maxRecordBytes of [0, -1, 1.5]) expect(() => new CsvParser({ maxRecordBytes })).toThrow(RangeError);
  });

  describe('errors', () => {
    const errors: [string, string, CsvSyntaxError['code'], number][] = [
      ['a quote inside an unquoted field', 'a,b\nc,d"e\n', 'INVALID_QUOTE', 2],
      ['a quote at the end of an unquoted field', 'a"', 'INVALID_QUOTE', 1],
      ['a space before a quote', 'h\nx, "y"\n', 'INVALID_QUOTE', 2],
      ['text after a closing quote', '"a"b,c\n', 'INVALID_CLOSING_QUOTE', 1],
      ['a space after a closing quote (empty lines count as records)', 'h\n\n"a" ,b\n', 'INVALID_CLOSING_QUOTE', 3],
      ['a lone CR after a closing quote', 'h\n"a"\rb\n', 'INVALID_CLOSING_QUOTE', 2],
      ['a CR at the end of input after a closing quote', '"a"\r', 'INVALID_CLOSING_QUOTE', 1],
      ['the end of input inside quotes', 'h\n"abc', 'UNCLOSED_QUOTE', 2],
      ['the end of input after a doubled quote', 'h\nx\n"ab""', 'UNCLOSED_QUOTE', 3],
      ['a lone quote', '"', 'UNCLOSED_QUOTE', 1],
      ['an unclosed quote swallowing line breaks', 'a,"b\nc\nd\n', 'UNCLOSED_QUOTE', 1],
    ];

    describe.each(CHUNKINGS)('%s', (_, size) => {
      it.each(errors)('%s', (_name, text, code, record) => {
        const err = syntaxError(() => parseText(text, size));
        expect(err).toBeInstanceOf(Error);
        expect({ code: err.code, record: err.record }).toEqual({ code, record });
        expect(err.message).toContain(`(record ${record})`);
      });
    });

    it('throws UNCLOSED_QUOTE from end(), not from push()', () => {
      const p = new CsvParser();
      expect(p.push(Buffer.from('h\n"open'))).toEqual([['h']]);
      expect(syntaxError(() => p.end())).toMatchObject({ code: 'UNCLOSED_QUOTE', record: 2 });
    });

    it('accepts a record of exactly maxRecordBytes characters (line break included) and rejects a longer one', () => {
      const opts = { maxRecordBytes: 10 };
      for (const [, size] of CHUNKINGS) {
        expect(parseText('a,b\n"1234",67\n', size, opts)).toEqual([
          ['a', 'b'],
          ['1234', '67'],
        ]);
        expect(syntaxError(() => parseText('a,b\n"1234",678\n', size, opts))).toMatchObject({
          code: 'RECORD_TOO_LARGE',
          record: 2,
        });
        expect(syntaxError(() => parseText('a,b\n12345678901', size, opts))).toMatchObject({
          code: 'RECORD_TOO_LARGE',
          record: 2,
        });
      }
    });

    it('stops a broken quote from buffering the rest of the page: RECORD_TOO_LARGE from push()', () => {
      const p = new CsvParser({ maxRecordBytes: 100 });
      expect(p.push(Buffer.from('h\nok\n"broken,'))).toEqual([['h'], ['ok']]);
      let fed = 0;
      const err = syntaxError(() => {
        for (; fed < 100_000; fed += 10) p.push(Buffer.from('x'.repeat(10)));
      });
      expect(err).toMatchObject({ code: 'RECORD_TOO_LARGE', record: 3 });
      expect(fed).toBeLessThanOrEqual(100);
    });
  });

  describe('random tables, serialised, chunked at random, match the table and csv-parse', () => {
    const DELIMITERS = [',', '\t', ';', '|', '^', '`'];
    const PIECES = [
      'a',
      'B',
      '7',
      ' ',
      '"',
      '""',
      ',',
      '\t',
      ';',
      '|',
      '^',
      '`',
      '\r',
      '\n',
      '\r\n',
      'é',
      '日本',
      '😀',
      '\u00a0',
      'x y',
      // the values the parser hands out as shared strings, and near misses
      'true',
      'false',
      'tru',
      'fals',
      'True',
    ];
    const TABLES = 300;

    interface Case {
      index: number;
      table: string[][];
      text: string;
      delimiter: string;
      sizes: () => number;
    }

    function makeCase(index: number): Case {
      const rnd = prng(0x5eed + index);
      const int = (n: number): number => Math.floor(rnd() * n);
      const delimiter = DELIMITERS[int(DELIMITERS.length)];
      const eol = rnd() < 0.5 ? '\n' : '\r\n';
      const finalEol = rnd() < 0.5;
      const ragged = rnd() < 0.2;
      const columns = 1 + int(6);
      const table: string[][] = [];
      for (let r = 1 + int(20); r > 0; r--) {
        const row: string[] = [];
        for (let c = ragged ? 1 + int(6) : columns; c > 0; c--) {
          let v = '';
          if (rnd() >= 0.2) for (let n = 1 + int(8); n > 0; n--) v += PIECES[int(PIECES.length)];
          row.push(v);
        }
        table.push(row);
      }
      const lines = table.map((row, r) =>
        row
          .map((v) => {
            const needsQuotes = v.includes(delimiter) || /["\r\n]/.test(v);
            // A last row of one empty field and no final line break would be an empty input.
            const loneEmptyAtEnd = !finalEol && r === table.length - 1 && row.length === 1 && v === '';
            return needsQuotes || loneEmptyAtEnd || rnd() < 0.3 ? `"${v.replace(/"/g, '""')}"` : v;
          })
          .join(delimiter),
      );
      const text = (rnd() < 0.3 ? '\ufeff' : '') + lines.join(eol) + (finalEol ? eol : '');
      const mode = index % 4;
      const sizes = mode === 0 ? () => 1 : mode === 1 ? () => 1 + int(5) : mode === 2 ? () => 1 + int(100) : WHOLE;
      return { index, table, text, delimiter, sizes };
    }

    const generated = Array.from({ length: TABLES }, (_, i) => makeCase(i));

    it('generates tables that exercise the tricky characters', () => {
      const all = generated.map((c) => c.text).join('');
      for (const s of ['""', '\r\n', '😀', '\ufeff']) expect(all).toContain(s);
      expect(generated.some((c) => c.table.some((row) => row.length === 1 && row[0] === ''))).toBe(true);
      for (const v of ['true', 'false', 'tru', 'fals'])
        expect(generated.some((c) => c.table.some((row) => row.includes(v)))).toBe(true);
    });

    it.each(generated.map((c) => [c.index, c] as const))('table %i', (_, c) => {
      const ours = parseText(c.text, c.sizes, { delimiter: c.delimiter });
      expect(ours).toEqual(c.table);
      expect(parseText(c.text, () => 1, { delimiter: c.delimiter })).toEqual(c.table);
      const reference = csvParseSync(c.text, {
        bom: true,
        relax_column_count: true,
        delimiter: c.delimiter,
      }) as string[][];
      expect(ours).toEqual(reference);
    });
  });

  describe('damaged inputs give the same outcome whatever the chunking', () => {
    const rnd = prng(42);
    const int = (n: number): number => Math.floor(rnd() * n);
    const base = 'id,name,note\r\n"1","a ""b""",\r\n2,"x,\ny",z\r\n\r\n"3",,"é😀"\r\n';
    const damaged = Array.from({ length: 200 }, () => {
      let s = base;
      for (let k = 1 + int(2); k > 0; k--) {
        const at = int(s.length + 1);
        s =
          rnd() < 0.5
            ? s.slice(0, at) + ['"', '\r', '\n', ','][int(4)] + s.slice(at)
            : s.slice(0, at) + s.slice(at + 1);
      }
      return s;
    });

    const outcome = (text: string, size: () => number): unknown => {
      try {
        return parseText(text, size);
      } catch (err) {
        if (!(err instanceof CsvSyntaxError)) throw err;
        return { code: err.code, record: err.record };
      }
    };

    it('records or error code and record number do not depend on where chunks are cut', () => {
      let errors = 0;
      for (const text of damaged) {
        const whole = outcome(text, WHOLE);
        if (!Array.isArray(whole)) errors++;
        expect({ text, outcome: outcome(text, () => 1) }).toEqual({ text, outcome: whole });
        expect({ text, outcome: outcome(text, () => 1 + int(7)) }).toEqual({ text, outcome: whole });
      }
      expect(errors).toBeGreaterThan(50); // the damage does break the CSV most of the time
    });
  });
});
