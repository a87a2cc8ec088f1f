/**
 * Objects of many string keys built with one hidden class. An object that gets ~180 properties
 * added one by one to `{}` becomes a dictionary-mode object in V8 (hash lookups; for-in and
 * Object.keys sort the keys each time; a spread copies it key by key). A constructor compiled
 * once per key list gives every object one shape with its values in the object, so the readers
 * downstream (avsc's compiled check and writer, a spread) take their fast paths.
 *
 * Used for the Bulk rows (connectors/salesforce/csv-page.ts) and the user records (pipeline/stages).
 *
 * `shapeBuilder(keys)(values)` has the same own keys in the same order, and the same values, as
 * assigning `o[keys[i]] = values[i]` in turn to `{}` (a repeated key keeps its first place and its
 * last value). The keys are only ever string literals in the compiled code (JSON-quoted), never
 * code. Its prototype is the constructor's, an empty object: no code reads it.
 */
export type ShapeBuilder<T> = (values: readonly unknown[]) => T;

export function shapeBuilder<T>(keys: readonly string[]): ShapeBuilder<T> {
  // one per key list for the process: every caller with the same keys shares the hidden class
  // JSON, not a join: no key list can spell another's id (a key may hold any character)
  const id = JSON.stringify(keys);
  let built = builders.get(id);
  if (!built) {
    if (builders.size >= 32) builders.delete(builders.keys().next().value!);
    builders.set(id, (built = compile(keys)));
  }
  return built as ShapeBuilder<T>;
}

const builders = new Map<string, ShapeBuilder<unknown>>();

/** Two key (or column) lists equal element by element: a row or record still has the shape compiled for it. */
export function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function compile(keys: readonly string[]): ShapeBuilder<unknown> {
  const body = keys.map((k, i) => `this[${JSON.stringify(k)}] = v[${i}];`).join('\n');
  const Ctor = new Function('v', body) as unknown as new (v: readonly unknown[]) => unknown;
  return (values) => new Ctor(values);
}
