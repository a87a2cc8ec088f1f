import { randomUUID } from 'node:crypto';
import type { ServiceEndpoints } from '../../devstack/env';

/**
 * The endpoints of the real servers, as the integration tier's global set-up published them.
 * Throws (never skips) when a test of the integration tier runs without that set-up.
 */
export function services(): ServiceEndpoints {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL } = process.env;
  if (!KAFKA_BROKERS || !SCHEMA_REGISTRY_URL || !DATABASE_URL) {
    throw new Error(
      'KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_URL are not set: ' +
        'run integration tests through `npm test` (its global set-up starts the servers).',
    );
  }
  return { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL };
}

/** A name no other test uses: topics, groups, subjects and tables of one test never meet another's. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
