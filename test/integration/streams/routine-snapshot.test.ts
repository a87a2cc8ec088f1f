import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import type { RunSummary } from '../../../pipeline/sync';
import type { Logger } from '../../../kernel/logger';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { indexTopicOf } from '../../../pipeline/kafka/live-index';
import { decodeStringKey } from '../../../schemas/keys';
import { PERMISSION_SET_ASSIGNMENTS, PERMISSION_SET_LICENSE_ASSIGNMENTS } from '../../../schemas/streams';
import { connectorFor, kafkaClient, settingsFor, startOrg } from '../../support/sync-harness';
import { latestRecords } from '../../support/stream-topics';
import { seededRandom } from '../../support/sync-oracle';
import { publishAsFailedRun } from '../../support/failed-run';
import { DEFAULT_SNAPSHOT_OVERLAP_MS } from '../../../pipeline/streams/run-stream';

/** What kind of read a Bulk query job of a stream was. */
function readKind(query: string): 'idOnly' | 'changed' | 'byId' | 'all' {
  if (/^SELECT Id FROM \w+$/.test(query)) return 'idOnly';
  if (/ WHERE SystemModstamp >= \S+$/.test(query)) return 'changed';
  if (/ WHERE Id IN \(/.test(query)) return 'byId';
  return 'all';
}

/**
 * Routine runs of the declared snapshot streams proportional to change (issue 15). Random org
 * changes between runs (assignments given and taken back, users deleted or deactivated); after
 * every run each stream's topic (decoded, latest per key) is exactly the simulator's rows and
 * its tombstones are exactly the keys gone. What a routine run READ is checked too:
 * - Kafka: the keys published before come from a compact index plus the stream topic's tail
 *   (the run's log says so: source 'index', tailRecords at most what the previous run wrote),
 *   never from the stream's whole topic;
 * - the index may be missing (the first run after the upgrade: rebuilt from the whole topic), or
 *   behind the topic (a run that published and failed before its commit): the next run still
 *   knows every key published, and tombstones the failed run's key the org does not hold.
 * - Salesforce (the simulator's query-job log is the truth): the first run reads every row; a
 *   routine run reads an Id-only snapshot and the rows whose SystemModstamp is at or after the
 *   highest stamp the last run read minus the overlap (and, by Id, only rows the Id snapshot shows
 *   new that the changed read missed), never every row in full.
 * Round FULL_ROUND: the periodic full read is due (streamsFullScanEvery): every row is read. Round
 * REFUSED_ROUND: a run the deletion guard refuses first: it commits nothing, so the next run reads
 * from the same watermark (changes made before the refused run are not lost).
 * Changes include a user's profile (the profile's own-set assignment is updated: its stamp moves)
 * and licence totals (no assignment changes). Replay with SYNC_SEED=<n>.
 */
let sim: Simulator;
let settings: ConnectorSettings;
let connector: Connector;

afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

const STREAMS = [
  {
    decl: PERMISSION_SET_ASSIGNMENTS,
    fields: ['Id', 'AssigneeId', 'PermissionSetId', 'PermissionSet.Name', 'SystemModstamp'],
    record: (r: Record<string, string>) => ({
      id: r.Id,
      userId: r.AssigneeId,
      permissionSetId: r.PermissionSetId,
      permissionSetName: r['PermissionSet.Name'],
    }),
  },
  {
    decl: PERMISSION_SET_LICENSE_ASSIGNMENTS,
    fields: ['Id', 'AssigneeId', 'PermissionSetLicenseId', 'PermissionSetLicense.DeveloperName', 'SystemModstamp'],
    record: (r: Record<string, string>) => ({
      id: r.Id,
      userId: r.AssigneeId,
      permissionSetLicenseId: r.PermissionSetLicenseId,
      permissionSetLicenseName: r['PermissionSetLicense.DeveloperName'],
    }),
  },
];

/** A logger keeping every info line's fields (the live-index load figures among them). */
function capture(): { logger: Logger; lines: { msg: string; fields: Record<string, unknown> }[] } {
  const lines: { msg: string; fields: Record<string, unknown> }[] = [];
  const logger: Logger = {
    debug() {},
    info(msg, fields) {
      lines.push({ msg, fields: fields ?? {} });
    },
    warn() {},
    error() {},
    child: () => logger,
  };
  return { logger, lines };
}

/** The keys whose latest message on the topic is a tombstone. */
async function tombstonedKeys(topic: string): Promise<Set<string>> {
  const latest = new Map<string, boolean>();
  await readToEnd(kafkaClient(), topic, (m) => {
    if (m.key) latest.set(decodeStringKey(m.key), m.value === null);
  });
  return new Set([...latest].filter(([, dead]) => dead).map(([k]) => k));
}

const sorted = (xs: Iterable<string>) => [...xs].sort();
const REBUILD_ROUND = 2;
const FAILED_ROUND = 4;
const FULL_ROUND = 3;
const REFUSED_ROUND = 5;

/**
 * Writes what a failed run leaves behind: a record of this connector for this org, under a key
 * the org does not hold (an Id of the same length, so the Avro key is the same bytes around it).
 */
async function publishOrphan(kafka: Kafka, topic: string, published: Set<string>): Promise<void> {
  let sample: KafkaMessage | null = null;
  await readToEnd(kafka, topic, (m) => {
    if (m.key && m.value && !sample) sample = m;
  });
  const m = sample! as KafkaMessage;
  const id = decodeStringKey(m.key!);
  const orphan = `${id.slice(0, 3)}${'Z'.repeat(id.length - 3)}`;
  published.add(orphan);
  const key = Buffer.concat([m.key!.subarray(0, m.key!.length - id.length), Buffer.from(orphan)]);
  await publishAsFailedRun(
    kafka,
    topic,
    { key, value: m.value },
    { connectorName: settings.connectorName, orgId: sim.orgId },
  );
}

describe('routine runs of declared snapshot streams', () => {
  it('keep each topic equal to the org while reading only the changes, from Kafka and from Salesforce', async () => {
    const rnd = seededRandom('routine-snapshot');
    sim = await startOrg({
      users: 120 + Math.floor(rnd.next() * 120),
      logins: 200,
      seed: 1 + Math.floor(rnd.next() * 5000),
    });
    settings = settingsFor(sim, {}, ['active', 'inactive', 'frozen']);
    const { logger, lines } = capture();
    connector = await connectorFor(settings, { logger });
    const topic = (name: string) => settings.topics.streams![name];
    const everPublished = new Map<string, Set<string>>(STREAMS.map((s) => [s.decl.name, new Set<string>()]));
    const permissionSets = sim
      .objectRows('PermissionSet', ['Name', 'IsOwnedByProfile'])
      .filter((r) => r.IsOwnedByProfile !== 'true')
      .map((r) => r.Name);
    const psLicences = sim.objectRows('PermissionSetLicense', ['DeveloperName']).map((r) => r.DeveloperName);

    // the highest SystemModstamp each stream's last run could read (the next run's watermark)
    const watermark = new Map<string, number>();
    const check = async (
      round: number,
      run: RunSummary,
      previous: RunSummary | null,
      linesFrom: number,
      jobsFrom: number,
      extra: (name: string) => number = () => 0,
    ) => {
      expect({ round, status: run.status }).toEqual({ round, status: 'succeeded' });
      for (const s of STREAMS) {
        const name = s.decl.name;
        const rows = sim.objectRows(s.decl.object, s.fields);
        // (b) Salesforce: what the run read of the object
        const jobs = sim.queryJobs.slice(jobsFrom).filter((j) => j.object === s.decl.object);
        const kinds = { idOnly: 0, changed: 0, byId: 0, all: 0 };
        for (const j of jobs) kinds[readKind(j.query)]++;
        const read = run.streams![name].read!;
        if (!previous || round === FULL_ROUND) {
          expect({ round, name, kinds, read: read.kind }).toEqual({
            round,
            name,
            kinds: { idOnly: 0, changed: 0, byId: 0, all: 1 },
            read: 'full',
          });
          if (previous) expect(read.reason).toMatch(/last full read is .* old \(streamsFullScanEvery/);
        } else {
          expect({ round, name, read: read.kind }).toEqual({ round, name, read: 'incremental' });
          // no key is read by Id: the org does not change during a run, so every key of the Id
          // snapshot is either published before or carried by the changed read
          expect({ round, name, kinds, byId: read.rowsRead?.byId }).toEqual({
            round,
            name,
            kinds: { idOnly: 1, changed: 1, byId: 0, all: 0 },
            byId: 0,
          });
          const since = new Date(watermark.get(name)! - DEFAULT_SNAPSHOT_OVERLAP_MS)
            .toISOString()
            .replace('.000Z', 'Z');
          const changed = jobs.find((j) => readKind(j.query) === 'changed')!;
          expect({ round, name, since: changed.query.split('>= ')[1] }).toEqual({ round, name, since });
        }
        // the highest stamp read: a full read's rows, or the changed rows on top of the last watermark
        // (the newest row may since be gone: the watermark does not move back)
        const newest = Math.max(...rows.map((r) => Date.parse(r.SystemModstamp)));
        const incremental = previous !== null && round !== FULL_ROUND;
        watermark.set(name, incremental ? Math.max(watermark.get(name)!, newest) : newest);
        const want = new Map(rows.map((r) => [r.Id, s.record(r)]));
        for (const id of want.keys()) everPublished.get(name)!.add(id);
        // the topic is the org: the same keys, the same values, and the tombstones are exactly the keys gone
        const { latest } = await latestRecords(topic(name));
        expect({ round, name, keys: sorted(latest.keys()) }).toEqual({ round, name, keys: sorted(want.keys()) });
        for (const [id, rec] of want) expect({ round, ...latest.get(id) }).toMatchObject({ round, ...rec });
        const gone = [...everPublished.get(name)!].filter((id) => !want.has(id));
        expect({ round, name, tombstoned: sorted(await tombstonedKeys(topic(name))) }).toEqual({
          round,
          name,
          tombstoned: sorted(gone),
        });
        if (!previous) continue;

        // (a) Kafka: the keys published before come from the compact index and the topic's tail only
        const loads = lines.slice(linesFrom).filter((l) => l.fields.topic === topic(name) && 'tailRecords' in l.fields);
        expect({ round, name, loads: loads.length }).toEqual({ round, name, loads: 1 });
        const rebuilt = round === REBUILD_ROUND;
        expect({ round, name, source: loads[0].fields.source }).toEqual({
          round,
          name,
          source: rebuilt ? 'rebuild' : 'index',
        });
        // exactly what landed after the last run's watermark: its tombstones (written in its commit,
        // after the mark; the records it published are below it) and a failed run's record
        const after = previous.streams![name].tombstoned + extra(name);
        if (!rebuilt)
          expect({ round, name, tail: Number(loads[0].fields.tailRecords) }).toEqual({ round, name, tail: after });
      }
    };

    let linesFrom = lines.length;
    let jobsFrom = sim.queryJobs.length;
    let previous = await connector.sync();
    await check(0, previous, null, linesFrom, jobsFrom);
    const profiles = [...new Set(sim.userIds().map((u) => sim.userRow(u, ['ProfileId']).ProfileId))];
    const kafka = kafkaClient();

    for (let round = 1; round <= 6; round++) {
      for (const u of rnd.sample(sim.userIds(['active']), 1 + Math.floor(rnd.next() * 4))) {
        try {
          sim.assignPermissionSet(u, rnd.pick(permissionSets));
        } catch (err) {
          if (!String(err).includes('DUPLICATE_VALUE')) throw err; // Salesforce refuses a duplicate too
        }
      }
      for (const u of rnd.sample(sim.userIds(['active']), Math.floor(rnd.next() * 3))) {
        try {
          sim.assignPermissionSetLicense(u, rnd.pick(psLicences));
        } catch (err) {
          if (!String(err).includes('DUPLICATE_VALUE')) throw err;
        }
      }
      const psa = sim
        .objectRows('PermissionSetAssignment', ['Id', 'PermissionSet.IsOwnedByProfile'])
        .filter((r) => r['PermissionSet.IsOwnedByProfile'] !== 'true');
      for (const r of rnd.sample(psa, Math.floor(rnd.next() * 3))) sim.unassignPermissionSet(r.Id);
      const psla = sim.objectRows('PermissionSetLicenseAssign', ['Id']);
      for (const r of rnd.sample(psla, Math.floor(rnd.next() * 2))) sim.unassignPermissionSetLicense(r.Id);
      for (const u of rnd.sample(sim.userIds(['active']), Math.floor(rnd.next() * 3))) sim.setUserState(u, 'inactive');
      for (const u of rnd.sample(sim.userIds(['active', 'inactive']), Math.floor(rnd.next() * 2))) sim.deleteUser(u);
      for (const u of rnd.sample(sim.userIds(['active']), 1 + Math.floor(rnd.next() * 2))) {
        const now = sim.userRow(u, ['ProfileId']).ProfileId;
        sim.updateUser(u, { ProfileId: rnd.pick(profiles.filter((p) => p !== now)) });
      }
      if (rnd.next() < 0.5) sim.setLicenseTotal(rnd.pick(psLicences), 1000 + Math.floor(rnd.next() * 1000));

      if (round === REBUILD_ROUND) {
        // the first run after the upgrade: no index yet
        const admin = kafka.admin();
        await admin.connect();
        await admin.deleteTopics({ topics: STREAMS.map((s) => indexTopicOf(topic(s.decl.name))) });
        await admin.disconnect();
      }
      let extra = (_name: string) => 0;
      if (round === FAILED_ROUND) {
        // a run that published a record and failed before its commit: the topic is ahead of the index
        for (const s of STREAMS) await publishOrphan(kafka, topic(s.decl.name), everPublished.get(s.decl.name)!);
        extra = () => 1;
      }
      if (round === REFUSED_ROUND) {
        // one removal at least, and a guard that lets none through: the run fails and commits nothing
        sim.unassignPermissionSetLicense(rnd.pick(sim.objectRows('PermissionSetLicenseAssign', ['Id'])).Id);
        const saved = settings.guard;
        settings.guard = { maxShare: 0, alwaysAllowUpTo: 0, override: false };
        const refused = await connector.sync();
        settings.guard = saved;
        // what it published before the guard refused is in the tail the next run reads
        extra = (name) => refused.streams![name].published;
        expect({ round, status: refused.status, code: refused.error?.code }).toEqual({
          round,
          status: 'failed',
          code: 'DELETION_GUARD',
        });
      }
      if (round === FULL_ROUND) settings.salesforce.streamsFullScanEveryMs = 1; // the periodic full read is due
      linesFrom = lines.length;
      jobsFrom = sim.queryJobs.length;
      const run = await connector.sync();
      delete settings.salesforce.streamsFullScanEveryMs;
      await check(round, run, previous, linesFrom, jobsFrom, extra);
      previous = run;
    }
  });
});
