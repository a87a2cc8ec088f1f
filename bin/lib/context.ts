import { ConfigError, loadConfigFile, transportWarnings } from '../../pipeline/config';
import type { LoadedConfig, ParseOptions } from '../../pipeline/config';
import { createLogger, scrub, type Logger } from '../../kernel/logger';
import { registerSecrets } from '../../kernel/redact';

/** A loaded config with a logger that scrubs its secrets, and an output writer that does too. */
export interface CommandContext {
  config: LoadedConfig;
  logger: Logger;
  /** Writes a line to stdout with every configured secret removed. */
  out(line: string): void;
}

/** Every secret of every config this process loaded: the last-resort error printer scrubs them too. */
export const processSecrets: string[] = [];

/**
 * Loads a config for one role (connector: sync, start; sink: sink, replay; any: what the file
 * says) so the process resolves only that role's secrets; registers them with the process-wide
 * scrubber and says, at every start, what the config sends unprotected.
 */
export function loadContext(path: string, role: ParseOptions['role'] = 'any'): CommandContext {
  const config = loadConfigFile(path, undefined, { role });
  const logger = createLogger({ secrets: config.secrets, fields: { connector: config.connectorName } });
  adopt(config, logger);
  return { config, logger, out: (line) => process.stdout.write(scrub(line, config.secrets) + '\n') };
}

/** Registers a loaded config's secrets for scrubbing and logs its transport warnings. */
export function adopt(config: LoadedConfig, logger: Logger): void {
  processSecrets.push(...config.secrets);
  registerSecrets(config.secrets);
  for (const warning of transportWarnings(config)) logger.warn(`insecure transport: ${warning}`, { role: config.role });
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
