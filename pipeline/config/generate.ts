/**
 * `npm run config:docs`: writes the generated configuration reference and the JSON Schema from
 * the config schema (reference.ts). A unit test (test/unit/config/schema.test.ts) fails when a
 * committed copy differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchema, JSON_SCHEMA_FILE, REFERENCE_FILE, renderReference } from './reference';

const root = join(__dirname, '../..');
writeFileSync(join(root, REFERENCE_FILE), renderReference());
writeFileSync(join(root, JSON_SCHEMA_FILE), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${REFERENCE_FILE} and ${JSON_SCHEMA_FILE}\n`);
