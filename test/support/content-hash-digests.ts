import type { Connector } from '../../pipeline/connector';
import * as records from '../../pipeline/records';
import { HEADERS } from '../../schemas/topics';
import { allRecords } from './sync-harness';

/**
 * The connector as the code before session 12 (users) and session 13 (declared streams) digested its
 * rows: `contentHash(row, fingerprint)` in the record's header, unchanged when it equals the stored one.
 * The digest is the only difference such a build's records show, so the upgrade tests make their first
 * runs with this instead of an old build (a clean clone has none).
 */
export function withContentHashDigests(c: Connector): Connector {
  return {
    ...c,
    async sync(req) {
      const spy = jest.spyOn(records, 'userDigest').mockImplementation((row, seed, previous) => {
        const hash = records.contentHash(row, seed);
        return { hash, unchanged: hash === previous };
      });
      try {
        return await c.sync(req);
      } finally {
        spy.mockRestore();
      }
    },
  };
}

/** The latest content-hash header of each live key of a topic. */
export async function latestHashes(topic: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const r of await allRecords(topic)) {
    if (r.value === null) out.delete(r.key);
    else out.set(r.key, r.headers[HEADERS.contentHash]);
  }
  return out;
}
