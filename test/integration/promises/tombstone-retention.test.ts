import { Kafka, logLevel, ConfigResourceTypes } from 'kafkajs';
import { silentLogger } from '../../../kernel/logger';
import { DEFAULT_TOPIC_SETTINGS, type TopicNames } from '../../../schemas/topics';
import { createTopicsReady, provisionTopics } from '../../../kafka/topics';
import { services, uniqueName } from '../../support/services';

/**
 * Promise 8, the topic's part: tombstones outlive a sink outage. The users topic keeps them at
 * least 7 days by default (configurable); an existing users topic that keeps them less is named
 * in a warning with the fix.
 */
const kafka = new Kafka({
  clientId: 'tombstone-retention-test',
  brokers: [services().KAFKA_BROKERS],
  logLevel: logLevel.NOTHING,
});
const DAY = 86_400_000;

function names(): TopicNames {
  const p = uniqueName('ret');
  return { users: `${p}.users`, logins: `${p}.logins`, state: `${p}.state`, deadLetter: `${p}.dlq` };
}

async function retention(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cfg = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['delete.retention.ms'] }],
    });
    return Number(cfg.resources[0].configEntries.find((e) => e.configName === 'delete.retention.ms')!.configValue);
  } finally {
    await admin.disconnect();
  }
}

it('new users topics keep tombstones 7 days by default or as configured; warns of a shorter existing one', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const byDefault = names();
    expect(await provisionTopics(admin, byDefault, DEFAULT_TOPIC_SETTINGS, silentLogger)).toEqual([]);
    expect(await retention(byDefault.users)).toBeGreaterThanOrEqual(7 * DAY);

    const configured = names();
    await provisionTopics(
      admin,
      configured,
      { ...DEFAULT_TOPIC_SETTINGS, tombstoneRetentionMs: 10 * DAY },
      silentLogger,
    );
    expect(await retention(configured.users)).toBe(10 * DAY);

    const old = names();
    await createTopicsReady(admin, [
      {
        topic: old.users,
        numPartitions: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'delete.retention.ms', value: String(DAY) },
        ],
      },
    ]);
    const warnings = await provisionTopics(admin, old, DEFAULT_TOPIC_SETTINGS, silentLogger);
    expect(warnings).toEqual([expect.stringContaining(`topic ${old.users} keeps tombstones 1 day `)]);
    expect(warnings[0]).toContain(`--add-config delete.retention.ms=${7 * DAY}`);
  } finally {
    await admin.disconnect();
  }
});
