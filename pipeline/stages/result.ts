import { RecordError } from '../../kernel/errors';

/**
 * What a stage returns: the record, or the reason this one row cannot become a record.
 * A failed row never throws: the caller routes `error` (field, value, reason in its message)
 * to the dead-letter topic together with the raw row, and the run goes on.
 */
export type StageResult<T> =
  { readonly ok: true; readonly record: T } | { readonly ok: false; readonly error: RecordError };

/** A value an Avro record of this connector can hold (maps are name -> boolean). */
export type AvroValue = string | number | boolean | null | Readonly<Record<string, boolean>>;

/** A record as the mappings build it: Avro field name -> value. */
export type AvroRecord = Readonly<Record<string, AvroValue>>;

export const ok = <T>(record: T): StageResult<T> => ({ ok: true, record });

/**
 * A failed row. `field` is the source field (the CSV column), `value` its raw text (undefined when
 * the column is absent), `target` the Neurons attribute it was meant for. The message reads
 * `Latitude -> latitude: not a decimal number (value "north")`; long values are cut in the message
 * but kept whole in `error.value`.
 */
export function invalid<T>(field: string, value: string | undefined, reason: string, target?: string): StageResult<T> {
  const shown =
    value === undefined ? 'missing' : JSON.stringify(value.length > 200 ? value.slice(0, 200) + '...' : value);
  const where = target && target !== field ? `${field} -> ${target}` : field;
  return { ok: false, error: new RecordError(`${where}: ${reason} (value ${shown})`, { field, value }) };
}
