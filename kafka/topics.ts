import type { Admin, ITopicConfig } from 'kafkajs';
import { RetriableError } from '../kernel/errors';
import { sleep } from '../kernel/retry';
import { ConfigResourceTypes } from 'kafkajs';
import type { Logger } from '../kernel/logger';
import {
  DEFAULT_TOMBSTONE_RETENTION_MS,
  type StreamTopicSpec,
  type TopicNames,
  type TopicSettings,
} from '../schemas/topics';

/**
 * What each topic must be. Users and run state are compacted (the latest value per key is the
 * truth, a null value deletes); login history is an event stream with time retention and must
 * never be compacted by user, or only each user's last login would survive.
 */
export function topicSpecs(
  names: TopicNames,
  settings: TopicSettings,
  streams: readonly StreamTopicSpec[] = [],
): ITopicConfig[] {
  const rf = settings.replicationFactor ?? -1;
  // Declared streams: a snapshot's topic is compacted like users (tombstones kept as long), an
  // incremental one keeps its events for a time, like login history.
  const declared = streams.map((s): ITopicConfig => ({
    topic: s.name,
    numPartitions: settings.partitions,
    replicationFactor: rf,
    configEntries: s.compacted
      ? [
          { name: 'cleanup.policy', value: 'compact' },
          {
            name: 'delete.retention.ms',
            value: String(settings.tombstoneRetentionMs ?? DEFAULT_TOMBSTONE_RETENTION_MS),
          },
        ]
      : [
          { name: 'cleanup.policy', value: 'delete' },
          { name: 'retention.ms', value: String((s.retentionDays ?? 30) * 86_400_000) },
        ],
  }));
  return [
    {
      topic: names.users,
      numPartitions: settings.partitions,
      replicationFactor: rf,
      configEntries: [
        { name: 'cleanup.policy', value: 'compact' },
        // keep tombstones a week (configurable), so a sink that was down for days still sees deletions
        { name: 'delete.retention.ms', value: String(settings.tombstoneRetentionMs ?? DEFAULT_TOMBSTONE_RETENTION_MS) },
      ],
    },
    {
      topic: names.logins,
      numPartitions: settings.partitions,
      replicationFactor: rf,
      configEntries: [
        { name: 'cleanup.policy', value: 'delete' },
        { name: 'retention.ms', value: String(settings.loginRetentionMs) },
      ],
    },
    {
      topic: names.state,
      numPartitions: 1,
      replicationFactor: rf,
      configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
    },
    {
      topic: names.deadLetter,
      numPartitions: settings.partitions,
      replicationFactor: rf,
      configEntries: [{ name: 'cleanup.policy', value: 'delete' }],
    },
    ...declared,
  ];
}

/**
 * Creates the missing topics with the right settings, and warns about existing ones whose
 * cleanup policy is wrong (a users topic that is not compacted grows forever, and a compacted
 * login topic silently loses events). Existing topics are never altered: that is an operator's
 * decision. Returns the warnings, which are also logged.
 */
export async function provisionTopics(
  admin: Admin,
  names: TopicNames,
  settings: TopicSettings,
  logger: Logger,
  streams: readonly StreamTopicSpec[] = [],
): Promise<string[]> {
  const specs = topicSpecs(names, settings, streams);
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    await createTopicsReady(admin, missing);
    logger.info('created topics', { topics: missing.map((s) => s.topic) });
  }
  const present = specs.filter((s) => existing.has(s.topic));
  if (present.length === 0) return [];
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((s) => ({
      type: ConfigResourceTypes.TOPIC,
      name: s.topic,
      configNames: ['cleanup.policy', 'delete.retention.ms'],
    })),
  });
  const warnings: string[] = [];
  for (const res of described.resources) {
    const want = specs
      .find((s) => s.topic === res.resourceName)!
      .configEntries!.find((e) => e.name === 'cleanup.policy')!.value;
    const have = res.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? '';
    if (!samePolicy(have, want)) {
      const warning =
        `topic ${res.resourceName} has cleanup.policy=${have || '(unset)'}, expected ${want}: ` + advice(want);
      warnings.push(warning);
      logger.warn(warning);
    }
    // an existing users topic that drops tombstones sooner than configured: deletions get lost
    const retention = specs
      .find((s) => s.topic === res.resourceName)!
      .configEntries!.find((e) => e.name === 'delete.retention.ms');
    const kept = res.configEntries.find((e) => e.configName === 'delete.retention.ms')?.configValue;
    if (retention && kept !== undefined && Number(kept) < Number(retention.value)) {
      const warning =
        `topic ${res.resourceName} keeps tombstones ${hours(Number(kept))} (delete.retention.ms=${kept}), ` +
        `less than the configured ${hours(Number(retention.value))}: ` +
        'a sink down for longer never deletes those users. Fix: kafka-configs --alter --entity-type topics ' +
        `--entity-name ${res.resourceName} --add-config delete.retention.ms=${retention.value}`;
      warnings.push(warning);
      logger.warn(warning);
    }
  }
  return warnings;
}

function hours(ms: number): string {
  const days = +(ms / 86_400_000).toFixed(1);
  return ms >= 86_400_000 ? `${days} day${days === 1 ? '' : 's'}` : `${+(ms / 3_600_000).toFixed(1)} h`;
}

function samePolicy(have: string, want: string): boolean {
  const set = (v: string) =>
    v
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .sort()
      .join(',');
  return set(have) === set(want);
}

function advice(want: string): string {
  return want === 'compact'
    ? 'without compaction old versions and tombstoned users are never cleaned up, and replays grow with every run. ' +
        'Fix: kafka-configs --alter --add-config cleanup.policy=compact'
    : 'compaction keeps only the last event per key, so login events would be lost. ' +
        'Fix: kafka-configs --alter --add-config cleanup.policy=delete';
}

/** Metadata answers that mean "not propagated yet", not "wrong". */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/**
 * Creates topics and resolves once every partition of each has a leader. A topic already there
 * (another run created it between list and create) is fine. kafkajs's own wait
 * (createTopics({ waitForLeaders: true })) gives up at once when the broker's metadata does not
 * know the new topic yet (it waits out only LEADER_NOT_AVAILABLE), which KRaft brokers answer for
 * a moment after creating it; so the wait is done here, on both answers, up to `timeoutMs`.
 */
export async function createTopicsReady(
  admin: Admin,
  topics: ITopicConfig[],
  opts: { timeoutMs?: number } = {},
): Promise<void> {
  if (topics.length === 0) return;
  await admin.createTopics({ topics, waitForLeaders: false }).catch((err: Error & { type?: string }) => {
    if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
  });
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: string;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: names });
      const leaderless = meta.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
      if (leaderless.length === 0) return;
      last = `no leader yet for ${leaderless.map((t) => t.name).join(', ')}`;
    } catch (err) {
      if (!NOT_YET.has((err as { type?: string }).type ?? '')) throw err;
      last = (err as Error).message;
    }
    if (Date.now() >= deadline) {
      throw new RetriableError(
        'KAFKA_TOPIC_NOT_READY',
        `topics ${names.join(', ')} were created but are not ready after ${opts.timeoutMs ?? 30_000} ms (${last})`,
      );
    }
    await sleep(delay);
  }
}
