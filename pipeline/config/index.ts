/**
 * The connector's configuration file: one file (YAML or JSON) per connector, validated whole at
 * start-up. See docs/configuration.md for every option.
 */
export { loadConfigFile, processSources } from './load';
export { parseConnectorConfig, roleOptions, type ParseOptions } from './parse';
export { transportWarnings } from './transport';
export { toConnectorSettings, toSinkConfig } from './convert';
export { ConfigError, formatIssue, type ConfigIssue } from './issues';
export type { SecretSources } from './secrets';
export { configSchema } from './schema';
export { CONFIG_ROLES, type ConfigRole, type ConnectorConfig, type LoadedConfig } from './types';
