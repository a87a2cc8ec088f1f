/**
 * A record of kafka/fetch-records.ts as its readers see it: its own enumerable keys in order, each
 * read through the property (its `headers` accessor builds kafkajs's headers object then), as a
 * plain object with data properties, the form kafkajs's decoder builds. Anything else is returned
 * as is. Throws where the record is more than that: an own property that is a symbol, not
 * enumerable, or (other than `headers`) not a plain writable data property; a prototype with
 * members of its own besides its constructor, or not directly above Object.prototype; a second
 * read of `headers` that is not the very object of the first (kafkajs's record holds one headers
 * object, which a reader may change).
 */
export function asRead(x: unknown): unknown {
  if (typeof x !== 'object' || x === null) return x;
  const lazy = Object.getOwnPropertyDescriptor(x, 'headers');
  if (lazy?.get === undefined) return x;
  const record = x as Record<string, unknown>;
  const keys = Object.keys(record);
  const own = Reflect.ownKeys(record);
  if (own.length !== keys.length || own.some((k, i) => k !== keys[i]))
    throw new Error(`own keys ${own.map(String).join(',')}: not only its enumerable string keys`);
  for (const k of keys) {
    const d = Object.getOwnPropertyDescriptor(record, k)!;
    const plain = k === 'headers' ? d.set !== undefined : d.writable === true;
    if (!plain || !d.enumerable || !d.configurable) throw new Error(`property ${k}: descriptor ${JSON.stringify(d)}`);
  }
  const proto = Object.getPrototypeOf(record) as object;
  if (Object.getPrototypeOf(proto) !== Object.prototype || Reflect.ownKeys(proto).join() !== 'constructor')
    throw new Error('the prototype is more than a class directly above Object.prototype');
  const first = record.headers;
  if (record.headers !== first) throw new Error('headers: another object at the second read');
  const view: Record<string, unknown> = {};
  for (const k of keys) view[k] = record[k];
  return view;
}
