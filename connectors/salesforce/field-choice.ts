/**
 * The extractor's side of the field choice (schemas/mapping-choice.ts): custom fields checked
 * against the org's describe, excluded fields kept out of SOQL, hashed values replaced in the raw
 * row before it leaves this module (so neither a topic nor the dead-letter topic sees them).
 */
import { createHmac } from 'node:crypto';
import { FatalError } from '../../kernel/errors';
import { DESCRIBE_TYPES, type FieldChoice } from '../../schemas/mapping-choice';
import type { Row } from './csv-page';
import type { Describer } from './describe';

/** True when `field` is excluded by name or by an excluded prefix pattern (UserPreferences*). */
export function isExcluded(field: string, exclude: readonly string[]): boolean {
  const f = field.toLowerCase();
  return exclude.some((e) => (e.endsWith('*') ? f.startsWith(e.slice(0, -1).toLowerCase()) : f === e.toLowerCase()));
}

/** Every included custom field must be in the User describe with a type its declaration accepts. */
export async function checkCustomFields(include: FieldChoice['include'], describe: Describer): Promise<void> {
  if (include.length === 0) return;
  const user = await describe('User');
  const byName = new Map((user?.fields ?? []).map((f) => [f.name.toLowerCase(), f]));
  for (const c of include) {
    const f = byName.get(c.name.toLowerCase());
    if (!f) {
      throw new FatalError(
        'CONFIG_INVALID',
        `fields.include.${c.name}: not in this org's User describe: check the API name, and the ` +
          "field-level security of the integration user's profile or permission set (the field must be visible to it)",
      );
    }
    if (!DESCRIBE_TYPES[c.type].includes(f.type.toLowerCase())) {
      throw new FatalError(
        'CONFIG_INVALID',
        `fields.include.${c.name}: declared ${c.type}, but Salesforce describes it as ${f.type}; ` +
          `declare one of the types that fit ${f.type}`,
      );
    }
  }
}

/** Replaces each hashed field's value by HMAC-SHA-256(salt, value) in hex; empty stays empty (null). */
export function hashRow(row: Row | null, fields: readonly string[], salt: string): Row | null {
  if (!row || fields.length === 0) return row;
  for (const f of fields) {
    const v = row[f];
    if (v) row[f] = createHmac('sha256', salt).update(v, 'utf8').digest('hex');
  }
  return row;
}
