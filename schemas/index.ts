/** schemas/: the Neurons mapping, the Avro schemas, their registration and the wire format. */
export { loadCatalog, type Catalog, USER_MAPPING_FILE, LOGIN_HISTORY_MAPPING_FILE } from './catalog';
export { parseMappingCsv, exportMappingCsv, sourceFields, MAPPING_TYPES, SOURCE_OBJECTS } from './mapping';
export type { Mapping, MappingRow, MappingType, SourceObject } from './mapping';
export { checkMapping } from './mapping-check';
export { loadConnectorSchemas, avroType, type AvroSchemaJson, type ConnectorSchemas } from './avro';
export {
  registerTopicSchemas,
  registryFromConfig,
  connectorTopicSchemas,
  classifyRegistryError,
  REGISTRY_CLIENT_ID,
} from './registry';
export type {
  RegistryConfig,
  RegistryClients,
  TopicSchemaSet,
  RegisteredTopic,
  RegisteredSchema,
  ConnectorTopics,
  RegisterOptions,
} from './registry';
export {
  registryClient,
  RegistryHttpError,
  type RegistryClient,
  type RegistryAdmin,
  type CompatibilityLevel,
} from './registry-client';
export { createTopicCodec, writerSchemasFrom, type TopicCodec, type WriterSchemas } from './codec';
export { frame, unframe, encodeFramed, decodeFramed, resolverFor, MAGIC_BYTE } from './wire';
