import { Kafka, logLevel } from 'kafkajs';
import type { Simulator } from '../../../simulator/api';
import type { Connector } from '../../../pipeline/connector';
import { createProducer } from '../../../pipeline/kafka/publisher';
import { mulberry32 } from '../../../simulator/prng';
import { produceFault } from '../../support/produce-fault-s16';
import { services } from '../../support/services';
import { allRecords, connectorFor, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';

/**
 * A first run whose users' writes (drainBatches, several in flight on the run's producer) meet a
 * produce request answered NOT_LEADER_OR_FOLLOWER after the broker appended it (a leader that
 * moved, a topic just created; injected in process, test/support/produce-fault-s16.ts). kafkajs
 * retries that request; a write waiting meanwhile must not take its sequence numbers (the broker
 * refused it: a failed run; or took it for the retry: users acknowledged and never in Kafka).
 * The run succeeds and the users topic holds each user exactly once. And when such a request fails
 * for good (every retry answered so: a failed run), the connector's next run, same process, same
 * producer, publishes every user (kafkajs took that request's numbers back, the broker kept them).
 * SEQ_S16_SEED=n replays.
 */
const SEED = Number(process.env.SEQ_S16_SEED ?? Math.floor(Math.random() * 2 ** 31));

let sim: Simulator | undefined;
let connector: Connector | undefined;
afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

function faultyKafka(fault: ReturnType<typeof produceFault>): Kafka {
  return new Kafka({
    clientId: 'seq-s16-sync',
    brokers: [services().KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
    socketFactory: fault.socketFactory,
    retry: { initialRetryTime: 100, retries: RETRIES },
  });
}
const RETRIES = 3;

it(`a first run's users survive a retried produce request among concurrent writes (SEQ_S16_SEED=${SEED})`, async () => {
  const rnd = mulberry32(SEED);
  sim = await startOrg({ users: 150 + Math.floor(rnd() * 250), logins: 200 });
  const settings = settingsFor(sim);
  // small batches: many writes, four in flight (DEFAULT_PUBLISHER.maxInFlight)
  settings.publisher = { ...settings.publisher, batchSize: 10 + Math.floor(rnd() * 40), maxInFlight: 4 };
  const nth = Math.floor(rnd() * 3); // which of the users topic's produce responses lies
  let usersResponses = 0;
  const fault = produceFault((_, topic) => topic === settings.topics.users && usersResponses++ === nth);
  const kafka = faultyKafka(fault);
  connector = await connectorFor(settings, { producer: () => createProducer(kafka) });

  const run = await connector.sync();
  expect(fault.faulted).toBe(1);
  expect({ status: run.status, error: run.error }).toEqual({ status: 'succeeded', error: undefined });
  const users = sim.userIds();
  expect(run.usersPublished).toBe(users.length);
  const keys = (await allRecords(settings.topics.users)).map((r) => r.key);
  const missing = users.filter((id) => !keys.includes(id));
  const twice = keys.filter((k, i) => keys.indexOf(k) !== i);
  expect({ missing, twice, total: keys.length }).toEqual({ missing: [], twice: [], total: users.length });
}, 120_000);

it(`the run after one whose produce request failed for good publishes every user (SEQ_S16_SEED=${SEED})`, async () => {
  const rnd = mulberry32(SEED + 1);
  sim = await startOrg({ users: 100 + Math.floor(rnd() * 200), logins: 100 });
  const settings = settingsFor(sim);
  // one write at a time: the failure for good alone (a broker away longer than the retries), no race
  settings.publisher = { ...settings.publisher, batchSize: 10 + Math.floor(rnd() * 40), maxInFlight: 1 };
  // the users topic's first produce response and each of its retries' lie: the first run fails
  let usersResponses = 0;
  const fault = produceFault((_, topic) => topic === settings.topics.users && usersResponses++ <= RETRIES);
  const kafka = faultyKafka(fault);
  connector = await connectorFor(settings, { producer: () => createProducer(kafka) });

  const first = await connector.sync();
  expect(first.status).toBe('failed');
  // a Kafka outage, named so (it was INTERNAL: a bug of ours, by the failed-runs metric's code)
  expect(first.error).toEqual({
    code: 'KAFKA_ERROR',
    message: expect.stringContaining('NOT_LEADER_FOR_PARTITION: This server is not the leader'),
  });
  expect(fault.faulted).toBeGreaterThan(0);
  const second = await connector.sync();
  expect({ status: second.status, error: second.error }).toEqual({ status: 'succeeded', error: undefined });
  // what the failed run had published (acknowledged) is not sent again: every user is in the topic
  const published = await latestUsers(settings.topics.users, connector.codecs.users);
  expect(sim.userIds().filter((id) => !published.has(id))).toEqual([]);
}, 120_000);
