import { ConfigError, loadConfigFile, type ConnectorConfig } from '../../pipeline/config';
import { createLogger, scrub, type Logger } from '../../pipeline/core/logger';

/** A loaded config with a logger that scrubs its secrets, and an output writer that does too. */
export interface CommandContext {
  config: ConnectorConfig;
  logger: Logger;
  /** Writes a line to stdout with every configured secret removed. */
  out(line: string): void;
}

/** Every secret of every config this process loaded: the last-resort error printer scrubs them too. */
export const processSecrets: string[] = [];

export function loadContext(path: string): CommandContext {
  const config = loadConfigFile(path);
  processSecrets.push(...config.secrets);
  const logger = createLogger({ secrets: config.secrets, fields: { connector: config.connectorName } });
  return { config, logger, out: (line) => process.stdout.write(scrub(line, config.secrets) + '\n') };
}

export { ConfigError };

/**
 * Calls `onStop` on the first SIGINT or SIGTERM, and again (with `force` true) on a second one.
 * Returns a function that removes the handlers.
 */
export function onShutdown(onStop: (signal: string, force: boolean) => void): () => void {
  let count = 0;
  const handler = (signal: string) => onStop(signal, count++ > 0);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
