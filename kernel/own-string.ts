/**
 * A copy of `s` that shares no storage with the string it was cut from.
 *
 * V8 makes `text.slice(a, b)` of a long string a view of it, and keeps the whole parent alive as
 * long as the view lives. The CSV parser's values are such views of each decoded chunk
 * (connectors/salesforce/csv-parser.ts), so a value kept past its page keeps the page: a routine
 * run that held the keys of 10,000 changed users held ~2.8 KB of page text for each
 * (bench/connector.ts --changed 0.1 at 100k users: live heap 71 against 43 MB). Copy what outlives
 * its row. structuredClone copies any string exactly (lone surrogates included); ~1 µs a key, for
 * the few keys kept (the changed rows, the rows to read by Id), not for every row.
 */
export function ownString(s: string): string {
  return structuredClone(s);
}
