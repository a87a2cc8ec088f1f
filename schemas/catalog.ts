import { FatalError } from '../kernel/errors';
import { loadConnectorSchemas, type ConnectorSchemas } from './avro';
import { parseMappingCsv, type Mapping } from './mapping';
import { checkMapping } from './mapping-check';
import { applyFieldChoice, NO_FIELD_CHOICE, type FieldChoice } from './mapping-choice';
import { readSchemaFile } from './files';
import { LOGINS } from './streams/logins';
import { USERS } from './streams/users';

/** Everything schemas/ ships: the Avro schemas and the two mappings that fill them. */
export interface Catalog {
  readonly schemas: ConnectorSchemas;
  /** Fills schemas.userValue from a User Bulk row (+ the latest login, + run metadata). */
  readonly userMapping: Mapping;
  /** Fills schemas.loginEventValue from a LoginHistory Bulk row (+ run metadata). */
  readonly loginHistoryMapping: Mapping;
}

// The declarations are the one place these names are written (schemas/streams).
export const USER_MAPPING_FILE = USERS.mapping;
export const LOGIN_HISTORY_MAPPING_FILE = LOGINS.mapping;

/**
 * Loads and cross-checks the shipped files once, at start-up. Throws a FatalError listing every
 * disagreement between a mapping and its schema (see checkMapping), so a half-done edit never
 * reaches Kafka.
 */
export function loadCatalog(choice: FieldChoice = NO_FIELD_CHOICE): Catalog {
  const shipped = loadConnectorSchemas();
  // Custom fields (fields.include) extend the user schema and mapping; see mapping-choice.ts.
  const chosen = applyFieldChoice(
    parseMappingCsv(readSchemaFile(USER_MAPPING_FILE), USER_MAPPING_FILE),
    shipped.userValue,
    choice,
  );
  const schemas = { ...shipped, userValue: chosen.schema };
  const userMapping = chosen.mapping;
  const loginHistoryMapping = parseMappingCsv(readSchemaFile(LOGIN_HISTORY_MAPPING_FILE), LOGIN_HISTORY_MAPPING_FILE);
  const problems = [
    ...checkMapping(userMapping, schemas.userValue).map((p) => `${USER_MAPPING_FILE}: ${p}`),
    ...checkMapping(loginHistoryMapping, schemas.loginEventValue).map((p) => `${LOGIN_HISTORY_MAPPING_FILE}: ${p}`),
  ];
  if (problems.length > 0)
    throw new FatalError('MAPPING_SCHEMA_MISMATCH', `mapping and schema disagree:\n- ${problems.join('\n- ')}`);
  return { schemas, userMapping, loginHistoryMapping };
}
