import { readToEnd } from '../../pipeline/kafka/read-to-end';
import { registryFromConfig } from '../../schemas/registry';
import { decodeStringKey } from '../../schemas/keys';
import { kafkaClient } from './sync-harness';
import { services } from './services';

/**
 * What a consumer of a declared stream's compacted topic sees: key → the latest value, decoded
 * through the schema registry by the schema id in each message (tombstoned keys absent), plus
 * how many tombstones the topic holds.
 */
export async function latestRecords(
  topic: string,
): Promise<{ latest: Map<string, Record<string, unknown>>; tombstones: number }> {
  const raw = new Map<string, Buffer | null>();
  let tombstones = 0;
  await readToEnd(kafkaClient(), topic, (m) => {
    if (!m.key) return;
    if (m.value === null) tombstones++;
    raw.set(decodeStringKey(m.key), m.value);
  });
  const { registry } = registryFromConfig({ url: services().SCHEMA_REGISTRY_URL });
  const latest = new Map<string, Record<string, unknown>>();
  for (const [k, v] of raw) if (v) latest.set(k, (await registry.decode(v)) as Record<string, unknown>);
  return { latest, tombstones };
}
