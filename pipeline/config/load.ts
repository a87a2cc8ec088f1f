import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './issues';
import type { SecretSources } from './secrets';
import type { ConnectorConfig, LoadedConfig } from './types';
import { parseConnectorConfig, type ParseOptions } from './parse';

/** The real sources: process environment and the file system. */
export const processSources = (env: NodeJS.ProcessEnv = process.env): SecretSources => ({
  env,
  readFile: (p) => readFileSync(p, 'utf8'),
  fileMode: (p) => statSync(p).mode,
});

/**
 * Reads one connector's config file (.yaml/.yml, or .json; one file per connector) and
 * validates it. Throws ConfigError (CONFIG_INVALID) for an unreadable file, bad syntax, or any
 * invalid option, all at once.
 */
export function loadConfigFile(path: string, sources?: SecretSources, opts?: { role?: 'connector' }): ConnectorConfig;
export function loadConfigFile(path: string, sources: SecretSources | undefined, opts: ParseOptions): LoadedConfig;
export function loadConfigFile(
  path: string,
  sources: SecretSources = processSources(),
  opts: ParseOptions = {},
): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [
      {
        field: '(file)',
        problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        allowed: 'a readable YAML or JSON file',
      },
    ]);
  }
  let raw: unknown;
  try {
    raw = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    // A syntax error's excerpt could show a secret written in the file: only its position is kept.
    const where =
      /line (\d+)/i.exec((err as Error).message)?.[0] ??
      /position \d+/.exec((err as Error).message)?.[0] ??
      'somewhere';
    throw new ConfigError(path, [
      {
        field: '(file)',
        problem: `is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'} (syntax error at ${where})`,
      },
    ]);
  }
  return parseConnectorConfig(raw, sources, path, opts);
}
