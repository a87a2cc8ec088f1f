import { Kafka, logLevel } from 'kafkajs';
import type { Simulator } from '../../../simulator/api';
import type { Connector } from '../../../pipeline/connector';
import { DEFAULT_LOCK } from '../../../pipeline/kafka/state-store';
import { produceFault } from '../../support/produce-fault-s16';
import { services } from '../../support/services';
import { seededRandom } from '../../support/sync-oracle';
import { allRecords, connectorFor, settingsFor, startOrg } from '../../support/sync-harness';

/**
 * A run whose fence broke: a send through it (its lock's heartbeat) failed for good, every retry
 * answered NOT_LEADER_OR_FOLLOWER (a broker away longer than the retries; injected in process,
 * test/support/produce-fault-s16.ts). The fence then takes no transaction (RUN_FENCE_SEND_FAILED):
 * the run can commit nothing and its lease runs out. It must stop at its next heartbeat, not read
 * the whole org first (an hour and the org's API budget at 1M users) and fail at its commit.
 * Seeded (SYNC_SEED=n replays): the org's size and the pages' delay.
 */
let sim: Simulator | undefined;
let connector: Connector | undefined;
afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

it('a run whose fence send failed for good stops at its next heartbeat, having committed nothing', async () => {
  const rnd = seededRandom('heartbeat-fence-broken');
  const users = 2_000 + Math.floor(rnd.next() * 1_000);
  sim = await startOrg({ users, logins: 200 });
  // every result page answers late: the users phase lasts seconds (pageSize 100)
  sim.inject({ kind: 'slowPages', delayMs: 250 + Math.floor(rnd.next() * 250), times: 10_000 });
  const settings = settingsFor(sim);
  // the state topic's produce responses lie once the users phase has begun
  let armed = false;
  const fault = produceFault((_, topic) => armed && topic === settings.topics.state);
  const kafka = new Kafka({
    clientId: 'heartbeat-fence-broken',
    brokers: [services().KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
    socketFactory: fault.socketFactory,
    retry: { initialRetryTime: 50, retries: 2 },
  });
  connector = await connectorFor(settings, { kafka, lock: { ...DEFAULT_LOCK, heartbeatMs: 200 } });

  const run = await connector.sync({
    onProgress: (p) => {
      if (p.phase === 'users') armed = true;
    },
  });
  expect(fault.faulted).toBeGreaterThan(0);
  expect({ status: run.status, code: run.error?.code }).toEqual({ status: 'failed', code: 'RUN_FENCE_SEND_FAILED' });
  // stopped mid-read: far from every user of the org read (the org is the truth, not our counts)
  expect(run.usersExtracted).toBeLessThan(sim.userIds().length / 2);
  // and nothing downstream: no committed state (the connector's first run: its key holds nothing), no tombstone
  const state = await allRecords(settings.topics.state);
  expect(state.filter((r) => r.key === settings.connectorName)).toEqual([]);
  expect((await allRecords(settings.topics.users)).filter((r) => r.value === null)).toEqual([]);
}, 120_000);
