/**
 * The connector's configuration file: one file (YAML or JSON) per connector, validated whole at
 * start-up. See docs/configuration.md for every option.
 */
export { loadConfigFile, processSources } from './load';
export { parseConnectorConfig } from './validate';
export { toConnectorSettings, toSinkConfig } from './convert';
export { ConfigError, formatIssue, type ConfigIssue } from './issues';
export type { SecretSources } from './sources';
export type { ConnectorConfig } from './types';
