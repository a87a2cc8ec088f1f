/**
 * The connector's configuration file: one file (YAML or JSON) per connector, validated whole at
 * start-up. See docs/configuration.md for every option.
 */
export { loadConfigFile, processSources } from './load';
export { parseConnectorConfig, type ParseOptions } from './validate';
export { transportWarnings } from './transport';
export { toConnectorSettings, toSinkConfig } from './convert';
export { ConfigError, formatIssue, type ConfigIssue } from './issues';
export type { SecretSources } from './sources';
export { CONFIG_ROLES, type ConfigRole, type ConnectorConfig, type LoadedConfig } from './types';
