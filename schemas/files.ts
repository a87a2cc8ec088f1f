import { existsSync, readFileSync } from 'fs';
import path from 'path';

/**
 * Where the shipped schema and mapping files live. From source (ts-node, jest) they sit next to
 * this file; from a tsc build (dist/schemas) they are not copied, so we fall back to the
 * source tree two levels up. Returns an absolute path; does not check the file exists.
 */
export function schemaFilePath(relative: string): string {
  const beside = path.join(__dirname, relative);
  if (existsSync(beside)) return beside;
  return path.join(__dirname, '..', '..', 'schemas', relative);
}

/** Reads a shipped file as UTF-8 text (throws the fs error when it is missing). */
export function readSchemaFile(relative: string): string {
  return readFileSync(schemaFilePath(relative), 'utf8');
}
