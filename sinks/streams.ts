import path from 'node:path';
import type { AvroSchemaJson } from '../schemas/avro';
import { readSchemaFile, schemaFilePath } from '../schemas/files';
import { LOGINS, STREAMS, USERS, type StreamDeclaration } from '../schemas/streams';
import { FatalError } from '../kernel/errors';
import type { SinkStream } from './port';

/** What configuration may change about the declared streams, by stream name. */
export interface StreamOverrides {
  /** Topic per stream name (default: the declaration's topic.defaultName). */
  topics?: Readonly<Record<string, string | undefined>>;
  /** Table per stream name (default: the declaration's sink.table in `schema`). */
  tables?: Readonly<Record<string, { schema: string; name: string } | undefined>>;
  /** Namespace of tables not given in `tables` (default public). */
  schema?: string;
  /** The schema a stream's table starts from (default: the declaration's valueSchema file). */
  baseSchemas?: Readonly<Record<string, AvroSchemaJson | undefined>>;
  /** Rows deleted with a deleted key of another stream, in the same transaction. */
  cascades?: readonly DeleteCascade[];
}

/** `to`'s rows whose `field` holds a key deleted from `from` are deleted with it. */
export interface DeleteCascade {
  readonly from: string;
  readonly to: string;
  readonly field: string;
}

/** The sink option onUserRemoved as a cascade: delete-logins removes a removed user's login events. */
export function userRemovalCascades(onUserRemoved: 'delete-logins' | 'keep' = 'delete-logins'): DeleteCascade[] {
  return onUserRemoved === 'delete-logins' ? [{ from: USERS.name, to: LOGINS.name, field: 'userId' }] : [];
}

/**
 * The declared streams as the sink receives them, config overrides applied. Throws a FatalError
 * (CONFIG_INVALID) when two streams share a topic or a table.
 */
export function sinkStreams(
  declarations: readonly StreamDeclaration[] = STREAMS,
  overrides: StreamOverrides = {},
): SinkStream[] {
  const schema = overrides.schema ?? 'public';
  const streams = declarations.map((d): SinkStream => {
    const views = (d.sink as { views?: readonly string[] }).views ?? [];
    return {
      name: d.name,
      topic: overrides.topics?.[d.name] ?? d.topic.defaultName,
      table: overrides.tables?.[d.name] ?? { schema, name: d.sink.table },
      write: d.sink.write,
      indexes: d.sink.indexes,
      views: views.map((v) => (path.isAbsolute(v) ? v : schemaFilePath(v))),
      baseSchema: overrides.baseSchemas?.[d.name] ?? (JSON.parse(readSchemaFile(d.valueSchema)) as AvroSchemaJson),
      deletesCascadeTo: (overrides.cascades ?? [])
        .filter((c) => c.from === d.name)
        .map((c) => ({ stream: c.to, field: c.field })),
    };
  });
  const names = new Set(streams.map((s) => s.name));
  unique(
    streams.map((s) => s.topic),
    'topics',
    'each stream needs a topic of its own',
  );
  unique(
    streams.map((s) => `${s.table.schema}.${s.table.name}`),
    'tables',
    'each stream needs a table of its own',
  );
  // A cascade to a stream not sunk here has nothing to delete.
  return streams.map((s) => ({ ...s, deletesCascadeTo: s.deletesCascadeTo.filter((c) => names.has(c.stream)) }));
}

function unique(values: readonly string[], field: string, fix: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v))
      throw new FatalError('CONFIG_INVALID', `sink config: ${field}: "${v}" is given to two streams; ${fix}`);
    seen.add(v);
  }
}
