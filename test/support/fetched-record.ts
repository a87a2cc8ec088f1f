/**
 * A record of kafka/fetch-records.ts as its readers see it: its own enumerable keys in order, each
 * read through the property (its `headers` accessor builds kafkajs's headers object then), as a
 * plain object with data properties, the form kafkajs's decoder builds. Anything else is returned
 * as is. Throws when a second read of `headers` is not the very object of the first (kafkajs's
 * record holds one headers object; a reader may change it).
 */
export function asRead(x: unknown): unknown {
  if (typeof x !== 'object' || x === null) return x;
  const lazy = Object.getOwnPropertyDescriptor(x, 'headers');
  if (lazy?.get === undefined) return x;
  const record = x as Record<string, unknown>;
  const first = record.headers;
  if (record.headers !== first) throw new Error('headers: another object at the second read');
  const view: Record<string, unknown> = {};
  for (const k of Object.keys(record)) view[k] = record[k];
  return view;
}
