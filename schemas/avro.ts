import avro from 'avsc';
import { readSchemaFile } from './files';
import { LOGINS } from './streams/logins';
import { USERS } from './streams/users';

/** An Avro schema as JSON: a primitive name ("string") or a record/enum/map object. */
export type AvroSchemaJson = avro.Schema;

/** The connector's schemas, as shipped in schemas/avro. */
export interface ConnectorSchemas {
  /** Key of every topic: an Avro string (User Id, LoginHistory Id, connector name). */
  readonly key: AvroSchemaJson;
  readonly userValue: AvroSchemaJson;
  readonly loginEventValue: AvroSchemaJson;
  readonly runStateValue: AvroSchemaJson;
}

/** Reads the .avsc files. Throws (programmer/packaging error) when one is missing or not JSON. */
export function loadConnectorSchemas(): ConnectorSchemas {
  const read = (file: string) => JSON.parse(readSchemaFile(file)) as AvroSchemaJson;
  return {
    key: read('avro/string-key.avsc'),
    userValue: read(USERS.valueSchema),
    loginEventValue: read(LOGINS.valueSchema),
    runStateValue: read('avro/run-state-value.avsc'),
  };
}

/**
 * Builds the avsc Type of a schema. Logical types are deliberately NOT decoded into JS objects:
 * timestamp-millis stays a number of epoch milliseconds and date a number of days, which is
 * what the stages produce and what the registry client (built the same way) decodes to.
 */
export function avroType(schema: AvroSchemaJson): avro.Type {
  return avro.Type.forSchema(schema);
}
