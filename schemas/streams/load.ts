import { FatalError } from '../../kernel/errors';
import type { AvroSchemaJson } from '../avro';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readSchemaFile } from '../files';
import { parseMappingCsv, sourceFields, type Mapping } from '../mapping';
import { checkMapping } from '../mapping-check';
import type { StreamDeclaration } from './types';

/** A declaration with its files read and checked: what the generic path runs on. */
export interface LoadedStream {
  readonly decl: StreamDeclaration;
  readonly mapping: Mapping;
  readonly valueSchema: AvroSchemaJson;
  /** The fields of decl.object the mapping reads (API names or parent paths): what to query. */
  readonly fields: readonly string[];
  /** The mapping target that holds the key (the row whose source field is decl.key). */
  readonly keyTarget: string;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Reads a declared stream's mapping CSV and Avro schema and checks them against each other and
 * against the declaration. Throws a FatalError (MAPPING_SCHEMA_MISMATCH, STREAM_INVALID) naming
 * the files and every problem, so a half-done declaration stops start-up.
 */
export function loadStream(decl: StreamDeclaration): LoadedStream {
  const fail = (why: string) => new FatalError('STREAM_INVALID', `stream ${decl.name} (schemas/streams): ${why}`);
  if (!NAME.test(decl.name)) throw fail('its name must be lower-case letters, digits and dashes');
  const mapping = parseMappingCsv(read(decl.mapping), decl.mapping, [decl.object, 'Connector']);
  const valueSchema = JSON.parse(read(decl.valueSchema)) as AvroSchemaJson;
  const problems = checkMapping(mapping, valueSchema);
  if (problems.length > 0) {
    throw new FatalError(
      'MAPPING_SCHEMA_MISMATCH',
      `${decl.mapping} and ${decl.valueSchema} disagree:\n- ${problems.join('\n- ')}`,
    );
  }
  const keyRow = mapping.rows.find((r) => r.sourceObject === decl.object && r.sourceField === decl.key);
  if (!keyRow || !keyRow.required)
    throw fail(`its mapping needs a required row for the key field ${decl.object}.${decl.key}`);
  // sinks key a stream's table on its `id` column (the record key)
  if (keyRow.target !== 'id')
    throw fail(`the key field ${decl.object}.${decl.key} must map to the target "id", not "${keyRow.target}"`);
  if (
    decl.mode.kind === 'incremental' &&
    !mapping.rows.some((r) => r.sourceField === (decl.mode as { watermarkField: string }).watermarkField)
  ) {
    throw fail(`its mapping must read the watermark field ${decl.mode.watermarkField}`);
  }
  if (decl.sink.write === 'upsert' && !decl.topic.compacted)
    throw fail('an upsert stream needs a compacted topic (its tombstones delete)');
  return { decl, mapping, valueSchema, fields: sourceFields(mapping, decl.object), keyTarget: keyRow.target };
}

/** A declared file: relative to schemas/ (shipped), or absolute (a test's own fixture). */
function read(file: string): string {
  return path.isAbsolute(file) ? readFileSync(file, 'utf8') : readSchemaFile(file);
}
