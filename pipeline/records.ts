import { createHash } from 'node:crypto';
import type { RecordError } from '../kernel/errors';
import type { OutRecord } from './kafka/publisher';
import { scrubSecrets } from '../kernel/redact';
import { DEAD_LETTER_HEADERS, HEADERS } from '../schemas/topics';

/**
 * Pure builders of the records a run publishes: users, login events, tombstones and dead
 * letters, each with the run's headers (run id, connector name, source org).
 */
export interface RunIdentity {
  runId: string;
  connectorName: string;
  orgId: string;
}

export function runHeaders(run: RunIdentity): Record<string, string> {
  return { [HEADERS.runId]: run.runId, [HEADERS.connector]: run.connectorName, [HEADERS.org]: run.orgId };
}

/**
 * A user's content hash, over the raw Bulk row (column names and values, in column order) and a
 * `seed` that fingerprints the mapping and schema. Equal hashes mean the record built from the
 * row is equal too, except for what changes every run (run id, extraction time) and the device
 * of the latest login, which the run tracks apart. A changed mapping changes the seed, so every
 * user is published again with the new mapping. One hash update per row: this is on the hot path.
 */
export function contentHash(row: Readonly<Record<string, string>>, seed: string): string {
  let text = seed;
  for (const k in row) text += `\u0001${k}\u0000${row[k]}`;
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/** Fingerprint of what turns rows into records (mapping files and schemas). */
export function mappingFingerprint(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

export function tombstone(topic: string, key: Buffer, run: RunIdentity): OutRecord {
  return { topic, key, value: null, headers: runHeaders(run) };
}

/**
 * A row that cannot be mapped or encoded: it goes to the dead-letter topic with the reason, the
 * field and the raw row (as JSON), so nothing is lost and the run goes on.
 */
export function deadLetter(
  topic: string,
  object: string,
  row: Record<string, string>,
  error: RecordError,
  run: RunIdentity,
  at: Date,
): OutRecord {
  return {
    topic,
    key: Buffer.from(row.Id ?? ''),
    value: Buffer.from(
      JSON.stringify({ object, reason: scrubSecrets(error.message), field: error.field ?? null, row }),
    ),
    headers: {
      ...runHeaders(run),
      [DEAD_LETTER_HEADERS.reason]: scrubSecrets(error.message),
      [DEAD_LETTER_HEADERS.errorCode]: error.code,
      [DEAD_LETTER_HEADERS.field]: error.field ?? '',
      [DEAD_LETTER_HEADERS.sourceObject]: object,
      [DEAD_LETTER_HEADERS.failedAt]: at.toISOString(),
    },
  };
}
