import type { IHeaders, Kafka } from 'kafkajs';
import { CompactStringMap } from '../core/compact-map';
import type { Logger } from '../core/logger';
import { HEADERS } from './options';
import { readToEnd } from './read-to-end';

/**
 * The users this connector has imported and not yet removed: the latest record per key in the
 * compacted users topic, when that record is not a tombstone and was published by this
 * connector. Kafka is the source of truth, so a run on a new host knows the same set, and
 * connectors sharing a topic each see only their own users.
 *
 * Maps user Id → content hash of the last published value (header neurons-content-hash), which
 * lets a run skip users whose content did not change. Held off the V8 heap in fixed-width slots
 * (18-character Ids, 22-character hashes): 42 bytes a slot, 60 to 120 bytes per user.
 */
export type LiveIndex = CompactStringMap;

export async function readLiveIndex(
  kafka: Kafka,
  topic: string,
  connector: string,
  decodeKey: (key: Buffer) => string,
  logger: Logger,
): Promise<LiveIndex> {
  const live: LiveIndex = new CompactStringMap(18, 22);
  await readToEnd(kafka, topic, (m) => {
    if (!m.key) return;
    const key = decodeKey(m.key);
    if (m.value === null || header(m.headers, HEADERS.connector) !== connector) live.delete(key);
    else live.set(key, header(m.headers, HEADERS.contentHash) ?? '');
  });
  logger.info('read the live users from the users topic', { topic, live: live.size });
  return live;
}

export function header(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}
