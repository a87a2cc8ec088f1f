import { createHash } from 'node:crypto';
import type { RecordError } from './core/errors';
import type { OutRecord } from './kafka/publisher';
import { HEADERS } from './kafka/options';
import type { AvroRecord } from './stages';

/**
 * Pure builders of the records a run publishes: users, login events, tombstones and dead
 * letters, each with the run's headers (run id, connector name, source org).
 */
export interface RunIdentity {
  runId: string;
  connectorName: string;
  orgId: string;
}

/** Headers of a record that could not become a Neurons record (same names as the sink's). */
export const DLQ_HEADERS = {
  reason: 'neurons-dlq-reason',
  errorCode: 'neurons-dlq-error-code',
  field: 'neurons-dlq-field',
  sourceObject: 'neurons-dlq-source-object',
  failedAt: 'neurons-dlq-failed-at',
} as const;

export function runHeaders(run: RunIdentity): Record<string, string> {
  return { [HEADERS.runId]: run.runId, [HEADERS.connector]: run.connectorName, [HEADERS.org]: run.orgId };
}

/**
 * A user's content hash: every field but those that change on every run (run id, extraction
 * time) or that are not known on every run (`volatile`, e.g. the device of the latest login).
 * Equal hashes mean a consumer would see nothing new. Fields are hashed in schema order, which
 * the mapping fixes, so the hash is stable across runs and hosts.
 */
export function contentHash(record: AvroRecord, volatile: ReadonlySet<string>): string {
  const h = createHash('sha256');
  for (const [k, v] of Object.entries(record)) {
    if (volatile.has(k)) continue;
    h.update(k).update('\u0000').update(stable(v)).update('\u0001');
  }
  return h.digest('base64url').slice(0, 22);
}

function stable(v: unknown): string {
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
  }
  return JSON.stringify(v);
}

export function tombstone(topic: string, key: Buffer, run: RunIdentity): OutRecord {
  return { topic, key, value: null, headers: runHeaders(run) };
}

/**
 * A row that cannot be mapped or encoded: it goes to the dead-letter topic with the reason, the
 * field and the raw row (as JSON), so nothing is lost and the run goes on.
 */
export function deadLetter(topic: string, object: 'User' | 'LoginHistory', row: Record<string, string>, error: RecordError, run: RunIdentity, at: Date): OutRecord {
  return {
    topic,
    key: Buffer.from(row.Id ?? ''),
    value: Buffer.from(JSON.stringify({ object, reason: error.message, field: error.field ?? null, row })),
    headers: {
      ...runHeaders(run),
      [DLQ_HEADERS.reason]: error.message,
      [DLQ_HEADERS.errorCode]: error.code,
      [DLQ_HEADERS.field]: error.field ?? '',
      [DLQ_HEADERS.sourceObject]: object,
      [DLQ_HEADERS.failedAt]: at.toISOString(),
    },
  };
}
