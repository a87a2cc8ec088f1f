import type { Simulator } from '../../../simulator/api';
import type { Connector } from '../../../pipeline/connector';
import { readToEnd } from '../../../pipeline/kafka/read-to-end';
import { connectorFor, kafkaClient, settingsFor, startOrg } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';

/**
 * Promise 6: no run hangs or fails for ever on one bad record. A malformed key or an undecodable
 * value in the users or state topic is skipped with a warning; reading a topic to its end has a
 * deadline and a clear error.
 */
let sim: Simulator;
let connector: Connector;
afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

it('malformed keys in the users and state topics, an undecodable state value: skipped; later runs work', async () => {
  const rnd = seededRandom('bad records');
  sim = await startOrg({ users: 40, logins: 200, seed: 1 + Math.floor(rnd.next() * 1000) });
  const settings = settingsFor(sim, {}, ['active', 'inactive', 'frozen']);
  connector = await connectorFor(settings);
  const first = await connector.sync();
  expect(first.status).toBe('succeeded');

  const producer = kafkaClient().producer();
  await producer.connect();
  const junk = () =>
    Buffer.from(Array.from({ length: 1 + Math.floor(rnd.next() * 20) }, () => Math.floor(rnd.next() * 256)));
  await producer.send({
    topic: settings.topics.users,
    acks: -1,
    messages: [{ key: Buffer.from([0xff, 0x00, 0x01]), value: junk() }],
  });
  await producer.send({
    topic: settings.topics.state,
    acks: -1,
    messages: [
      { key: Buffer.from('not avro'), value: junk() },
      // the committed key with a value no schema decodes
      { key: connector.codecs.state.encodeKey(settings.connectorName), value: Buffer.from([0, 0, 0, 0, 99, 1, 2, 3]) },
    ],
  });
  await producer.disconnect();

  sim.updateUser(sim.userIds()[0], { Title: 'After the junk' });
  const logins = sim.addLogins(3);
  const second = await connector.sync();
  expect(second.error).toBeUndefined();
  // resumed from the last committed state that decodes: the new events, each once
  expect(second).toMatchObject({ status: 'succeeded', usersTombstoned: 0, loginEventsPublished: logins.length });
  expect((await connector.sync()).status).toBe('succeeded');
});

it('reading a topic to its end fails after its deadline, naming the topic', async () => {
  sim = await startOrg({ users: 10, logins: 20 });
  const settings = settingsFor(sim);
  connector = await connectorFor(settings);
  expect((await connector.sync()).status).toBe('succeeded');
  await expect(
    readToEnd(kafkaClient(), settings.topics.users, () => undefined, new Map(), { deadlineMs: 1 }),
  ).rejects.toMatchObject({
    code: 'READ_TO_END_TIMEOUT',
    retriable: true,
    message: expect.stringContaining(settings.topics.users),
  });
});
