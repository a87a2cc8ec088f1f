import type { Producer } from 'kafkajs';
import type { Simulator } from '../../../simulator/api';
import type { Connector } from '../../../pipeline/connector';
import { createProducer } from '../../../pipeline/kafka/publisher';
import { DEFAULT_LOCK } from '../../../pipeline/kafka/state-store';
import { silentLogger } from '../../../kernel/logger';
import { decodeStringKey } from '../../../schemas/keys';
import { LiveIndexTopic } from '../../../pipeline/kafka/live-index-topic';
import { readLiveIndex, type LiveIndex } from '../../../pipeline/kafka/live-index';
import { connectorFor, kafkaClient, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';
import { deviceOf, expectedDevices, NO_DEVICE, seededRandom } from '../../support/sync-oracle';
import { waitFor } from '../../support/wait';

/**
 * A zombie run (its lock taken over) must not make the live index go backwards: whatever it
 * writes late to `<users>.live-index` must not override what the run that fenced it wrote. Here
 * run A's index writes are held back (a stalled send) until run B has taken over and committed;
 * then whatever A still sends lands, and run C, republishing X for another reason, must publish
 * X's latest device (the simulator's latest successful login), not the one A saw; and Y, which A
 * published and B deleted, stays gone. Replay with SYNC_SEED=<n>.
 */
let sim: Simulator;
const connectors: Connector[] = [];
afterEach(async () => {
  for (const c of connectors.splice(0)) await c.close();
  await sim?.close();
});

/**
 * A producer that, once a send of users-topic records has been acknowledged, holds every later send
 * of other records, and every transaction of the run's fence, until `release()`: the run stalls right
 * after publishing its users, whatever it writes next (index entries, the declared streams, its
 * progress, its commit). `held` says it got there.
 */
function stallingAfterUsers(usersTopic: string): {
  make: (kafka: Parameters<typeof createProducer>[0]) => Producer;
  held: () => boolean;
  release: () => void;
} {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let usersSent = false;
  let held = false;
  const make = (kafka: Parameters<typeof createProducer>[0]): Producer => {
    const real = createProducer(kafka);
    const stall = async (topics: string[]) => {
      if (!usersSent || topics.includes(usersTopic)) return;
      held = true;
      await gate;
    };
    const sendBatch: Producer['sendBatch'] = async (batch) => {
      const topics = (batch.topicMessages ?? []).map((t) => t.topic);
      await stall(topics);
      const out = await real.sendBatch(batch);
      if (topics.includes(usersTopic)) usersSent = true;
      return out;
    };
    const send: Producer['send'] = async (record) => {
      await stall([record.topic]);
      return real.send(record);
    };
    // the run's fenced writes too (its progress, its commit): their transactions start after the gate
    const producerOf = kafka.producer.bind(kafka);
    kafka.producer = (config) => {
      const p = producerOf(config);
      if (!config?.transactionalId) return p;
      const transaction: Producer['transaction'] = async () => {
        await stall([]);
        return p.transaction();
      };
      return Object.assign(Object.create(p) as Producer, { transaction });
    };
    return Object.assign(Object.create(real) as Producer, { sendBatch, send });
  };
  return { make, held: () => held, release };
}

/** Adds logins of `id` until one succeeds (some are failed attempts): a new latest device. */
function newDevice(id: string): void {
  const was = JSON.stringify(expectedDevices(sim).get(id));
  for (let i = 0; i < 100 && JSON.stringify(expectedDevices(sim).get(id)) === was; i++)
    sim.addLogins(1, { userId: id });
  expect(JSON.stringify(expectedDevices(sim).get(id))).not.toBe(was);
}

it('a zombie run writing index entries late does not make a device go back or a deleted user come back', async () => {
  const rnd = seededRandom('live-index-zombie');
  sim = await startOrg({ users: 40, logins: 100, seed: 1 + Math.floor(rnd.next() * 1000) });
  const settings = settingsFor(sim, {}, ['active']);
  const first = await connectorFor(settings);
  connectors.push(first);
  expect((await first.sync()).status).toBe('succeeded');

  // X logs in again and Y changes: run A publishes both, then stalls
  // (X: a user whose latest login is in the past, so that the logins added now are their latest)
  const before = expectedDevices(sim);
  const past = (id: string) => (before.get(id)?.deviceLoginAt ?? 0) < Date.now() - 60_000;
  const x = rnd.pick(sim.userIds(['active']).filter(past));
  const y = rnd.pick(sim.userIds(['active']).filter((id) => id !== x));
  newDevice(x);
  sim.updateUser(y, { Title: `T-${rnd.next()}` });
  const hold = stallingAfterUsers(settings.topics.users);
  const zombieConnector = await connectorFor(settings, { producer: hold.make });
  connectors.push(zombieConnector);
  const zombie = zombieConnector.sync();
  await waitFor('run A to stall after publishing its users', 60_000, async () => hold.held());

  // X logs in once more (a newer device) and Y is deleted; run B takes the lock over and commits
  newDevice(x);
  sim.deleteUser(y);
  const ahead = { ...DEFAULT_LOCK, host: 'host-b', now: () => Date.now() + 120_000 };
  const taker = await connectorFor(settings, { lock: ahead });
  connectors.push(taker);
  expect(await taker.sync()).toMatchObject({ status: 'succeeded', usersTombstoned: 1 });

  // A's held sends (under the bug: its index entries) land now, after B's commit; A is fenced at its commit
  hold.release();
  const a = await zombie;
  expect(a.status).toBe('failed');

  // what the next run learns from the index (plus its tail) is exactly what a full read of the users
  // topic gives: every live user with the device, flags and hash of their latest record, no other
  const args = [settings.topics.users, settings.connectorName, decodeStringKey, silentLogger] as const;
  const viaIndex = (await new LiveIndexTopic(kafkaClient(), ...args).load(sim.orgId)).live;
  const full = await readLiveIndex(kafkaClient(), ...args, sim.orgId);
  const users = (live: LiveIndex) => [...live.keys()].sort().map((k) => [k, live.get(k)]);
  expect(users(viaIndex)).toEqual(users(full));
  expect(full.has(y)).toBe(false);

  // run C, after X's Title changed (no new login: its device comes from what the runs before it know):
  // X's device is the org's latest, and Y stays gone
  sim.updateUser(x, { Title: `T-${rnd.next()}` });
  const c = await first.sync();
  expect(c).toMatchObject({ status: 'succeeded', usersTombstoned: 0 });
  const latest = await latestUsers(settings.topics.users, first.codecs.users);
  expect(deviceOf(latest.get(x))).toEqual(expectedDevices(sim).get(x) ?? NO_DEVICE);
  expect(latest.has(y)).toBe(false);
  expect([...latest.keys()].sort()).toEqual(sim.userIds(['active']).sort());
  // and the run after it has nothing to do
  expect(await first.sync()).toMatchObject({ status: 'succeeded', usersPublished: 0, usersTombstoned: 0 });
});
