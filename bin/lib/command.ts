import type { ParseArgsConfig } from 'node:util';

/** Exit codes of every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Bad usage (unknown option, missing argument): exit 2 with the command's help hint. */
export class UsageError extends Error {}

/**
 * One CLI command. `run` resolves with the exit code; it writes results to stdout and logs
 * (JSON lines, secrets scrubbed) to stderr. Throwing is a failure (exit 1; 2 for a UsageError
 * or an invalid config).
 */
export interface Command {
  name: string;
  summary: string;
  /** The --help text after the usage line. */
  help: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  positionals?: boolean;
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

export const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const;

export function configPath(values: Record<string, unknown>): string {
  const c = values.config ?? process.env.CONNECTOR_CONFIG;
  if (typeof c !== 'string' || c === '') throw new UsageError('--config <file> is required (or set CONNECTOR_CONFIG)');
  return c;
}
