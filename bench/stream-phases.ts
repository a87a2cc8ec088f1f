/**
 * Where a routine run of the declared snapshot streams spends its time (issue 15), a command:
 *
 *   node -r ts-node/register/transpile-only bench/stream-phases.ts [--users 100000]
 *
 * Needs the shared services (KAFKA_BROKERS, SCHEMA_REGISTRY_URL in the environment, defaults the
 * local ones). An in-process simulator org; a first full run fills the topics, then 1 % of the
 * users change (see `change`), then a routine run. Prints, per stream and run, the
 * stream's own log line: rows read, published, unchanged, the time to read the stream's topic for
 * the previous keys and hashes (liveIndexMs) and the time of the read + map + hash + publish
 * (readPublishMs); and the whole run's time.
 *
 * Then the Salesforce read of the snapshot streams, side by side (issue 15, s6): routine runs
 * alternating (2 each, 1 % of the users changed before each: mostly a new profile (49 in 50), which updates
 * the user's own-set assignment, some permission sets assigned) between a connector reading them
 * incrementally (the default) and one reading them in full (streamsFullScanEvery 0), on the same org
 * and topics: the streams' readPublishMs and rows read of each.
 *
 * Then, side by side on the same topics, back to back (alternating, 3 times each): the topic read
 * a routine run did before the compact index (the stream's whole topic, readLiveIndex) and the
 * one it does now (the index plus the topic's tail, LiveIndexTopic.load), with the messages each
 * read.
 */
import { Kafka, logLevel } from 'kafkajs';
import { startSimulator } from '../simulator';
import { createLogger } from '../kernel/logger';
import { startConnector } from '../pipeline/connector';
import { benchSettings, deleteBenchSubjects, deleteBenchTopics } from './support';
import { mulberry32 } from '../simulator/prng';
import { indexTopicOf, readLiveIndex } from '../pipeline/kafka/live-index';
import { LiveIndexTopic } from '../pipeline/kafka/live-index-topic';
import { decodeStringKey } from '../schemas/keys';
import { silentLogger } from '../kernel/logger';
import { GENERIC_STREAMS } from '../schemas/streams/generic';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

async function main(): Promise<void> {
  const users = Number(arg('users', '100000'));
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:19092';
  const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:18081/apis/ccompat/v7';
  const sim = await startSimulator({ users, logins: 1000, now: new Date().toISOString() });
  const name = `bench-streams-${Date.now().toString(36)}`;
  const settings = benchSettings({
    name,
    simUrl: sim.url,
    credentials: sim.credentials,
    brokers,
    registryUrl,
    parallelPages: 2,
    partitions: 3,
  });
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    write: (line: string) => {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (o.msg === 'stream read and published') lines.push(o);
    },
  });
  const connector = await startConnector(settings, { logger });
  const fullReads = await startConnector(
    { ...settings, salesforce: { ...settings.salesforce, streamsFullScanEveryMs: 0 } },
    { logger },
  );
  const rnd = mulberry32(7);
  const profiles = [
    ...new Set(
      sim
        .userIds(['active'])
        .slice(0, 200)
        .map((u) => sim.userRow(u, ['ProfileId']).ProfileId),
    ),
  ];
  /** 1 % of the users changed: 49 in 50 a new profile (its own-set assignment is updated), 1 in 50 a permission set
   *  (each assignment scans the simulator's table for a duplicate: slow at 100k). */
  const change = (round: number) => {
    const ids = sim.userIds(['active']);
    const n = Math.ceil(users / 100);
    for (let i = 0; i < n; i++) {
      const id = ids[Math.floor(rnd() * ids.length)];
      try {
        if (i % 50 === 0) sim.assignPermissionSet(id, rnd() < 0.5 ? 'Sales_Ops' : 'Reports_Export');
        else sim.updateUser(id, { ProfileId: profiles[(round + i) % profiles.length] });
      } catch {
        sim.updateUser(id, { Title: `t${round}-${i}` }); // already assigned: a change of another kind
      }
    }
  };
  try {
    for (const label of ['first (full)', 'routine, 1 % changed']) {
      if (label.startsWith('routine')) change(0);
      lines.length = 0;
      const t = performance.now();
      await connector.sync();
      const ms = Math.round(performance.now() - t);
      console.log(`\n${label}: whole run ${(ms / 1000).toFixed(1)} s`);
      for (const l of lines)
        console.log(
          `  ${String(l.stream).padEnd(38)} read ${l.extracted} published ${l.published} unchanged ${l.unchanged}` +
            ` liveIndex ${l.liveIndexMs} ms read+publish ${l.readPublishMs} ms`,
        );
    }
    console.log('\nSalesforce read + publish of a routine run (1 % changed), incremental vs full, alternating:');
    const figures: Record<string, { after: string[]; before: string[] }> = {};
    for (let round = 0; round < 4; round++) {
      const incremental = round % 2 === 0;
      change(round + 10);
      lines.length = 0;
      const t = performance.now();
      await (incremental ? connector : fullReads).sync();
      const ms = Math.round(performance.now() - t);
      console.log(
        `  ${incremental ? 'after (incremental)' : 'before (full read)'}: whole run ${(ms / 1000).toFixed(1)} s`,
      );
      for (const l of lines) {
        const f = (figures[String(l.stream)] ??= { after: [], before: [] });
        const rows = JSON.stringify(l.rowsRead ?? { full: l.extracted });
        f[incremental ? 'after' : 'before'].push(`${l.readPublishMs} ms ${rows} published ${l.published}`);
        console.log(
          `    ${String(l.stream).padEnd(38)} ${String(l.read ?? 'full').padEnd(11)} rows ${rows}` +
            ` published ${l.published} read+publish ${l.readPublishMs} ms`,
        );
      }
    }
    for (const [stream, f] of Object.entries(figures))
      console.log(`  ${stream}: before ${f.before.join(' | ')}; after ${f.after.join(' | ')}`);
    csvBytes(sim);
    await topicReadSideBySide(new Kafka({ clientId: `${name}-r`, brokers: [brokers], logLevel: logLevel.NOTHING }), {
      connector: settings.connectorName,
      orgId: sim.orgId,
      topics: settings.topics.streams ?? {},
    });
  } finally {
    await connector.close();
    await fullReads.close();
    await sim.close();
    const admin = new Kafka({ clientId: name, brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await deleteBenchTopics(admin, name);
    await admin.disconnect();
    await deleteBenchSubjects(registryUrl, name); // the registry lists at most 1,000 subjects
  }
}

/** The routine run's topic read, before (the whole topic) and after (index + tail), on the same topics. */
async function topicReadSideBySide(
  kafka: Kafka,
  o: { connector: string; orgId: string; topics: Record<string, string> },
): Promise<void> {
  console.log('\ntopic read of a routine run, side by side (ms of 3 alternating reads each; messages read):');
  for (const d of GENERIC_STREAMS.filter((s) => s.mode.kind === 'snapshot')) {
    const topic = o.topics[d.name];
    const whole: number[] = [];
    const indexed: number[] = [];
    let wholeMessages = 0;
    let indexMessages = '';
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      const live = await readLiveIndex(kafka, topic, o.connector, decodeStringKey, silentLogger, o.orgId, {}, d.name);
      whole.push(Math.round(performance.now() - t));
      wholeMessages = await topicMessages(kafka, topic);
      t = performance.now();
      const figures: Record<string, unknown>[] = [];
      const logger = { ...silentLogger, info: (_: string, f?: Record<string, unknown>) => void figures.push(f ?? {}) };
      const loaded = await new LiveIndexTopic(kafka, topic, o.connector, decodeStringKey, logger, d.name).load(o.orgId);
      indexed.push(Math.round(performance.now() - t));
      if (loaded.live.size !== live.size)
        throw new Error(`${d.name}: index ${loaded.live.size} keys, topic ${live.size}`);
      const f = figures.find((x) => 'tailRecords' in x) ?? {};
      const entries = await topicMessages(kafka, indexTopicOf(topic));
      indexMessages = `index ${entries} messages + tail ${String(f.tailRecords)} (${String(f.source)})`;
    }
    console.log(
      `  ${d.name.padEnd(38)} before (whole topic, ${wholeMessages} messages) ${whole.join(' / ')} ms;` +
        ` after (${indexMessages}) ${indexed.join(' / ')} ms`,
    );
  }
}

/**
 * What each read transfers from Salesforce (the CSV bytes of its rows, from the simulator's data): a
 * full read of the mapped fields against an Id-only snapshot. The in-process simulator's own work
 * (it scans every row for the SystemModstamp filter, where Salesforce uses an index) is in the
 * timings above; the bytes are what a real org sends.
 */
function csvBytes(sim: Awaited<ReturnType<typeof startSimulator>>): void {
  console.log('\nCSV bytes per read (simulator data):');
  for (const d of GENERIC_STREAMS.filter((s) => s.mode.kind === 'snapshot' && s.mode.incremental)) {
    const full = [...sim.queryJobs].reverse().find((j) => j.object === d.object && !j.query.includes(' WHERE '));
    const fields = /^SELECT (.*) FROM /.exec(full?.query ?? '')?.[1].split(', ') ?? [];
    const rows = sim.objectRows(d.object, fields);
    const line = (r: Record<string, string>) => fields.reduce((n, f) => n + r[f].length + 3, 0);
    const fullBytes = rows.reduce((n, r) => n + line(r), 0);
    const idBytes = rows.reduce((n, r) => n + r.Id.length + 3, 0);
    console.log(
      `  ${d.name.padEnd(38)} full read ${(fullBytes / 1e6).toFixed(1)} MB (${fields.length} fields), ` +
        `Id-only ${(idBytes / 1e6).toFixed(1)} MB (${(fullBytes / idBytes).toFixed(1)}×), ` +
        `1 % of the rows in full ${(fullBytes / 100 / 1e6).toFixed(2)} MB`,
    );
  }
}

/** Messages in a topic (its end offsets minus its start offsets). */
async function topicMessages(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
  } finally {
    await admin.disconnect();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
