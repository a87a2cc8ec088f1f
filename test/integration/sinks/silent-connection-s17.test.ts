import { Kafka, logLevel } from 'kafkajs';
import { services } from '../../support/services';
import { SinkHarness } from '../../support/sink-harness';
import { user, userId } from '../../support/sink-fixtures';
import { silenceableSockets } from '../../support/silent-sockets';
import { waitFor } from '../../support/wait';

/**
 * The sink's connections go silent mid-stream (open, nothing comes back: a broker wedged, a NAT
 * that dropped their state). kafkajs times each request out and keeps the connection; the fetch
 * has a connection of its own while the group's heartbeats go on the other, so the group looks
 * healthy. The sink must not stall there: every record produced after is written.
 */
let h: SinkHarness | undefined;
afterEach(async () => {
  await h?.close().catch(() => undefined);
});

it('writes every record after its connections went silent mid-stream', async () => {
  h = await new SinkHarness({ partitions: 2 }).setUp();
  const { socketFactory, silence } = silenceableSockets();
  const kafka = new Kafka({
    clientId: 'sink-silent',
    brokers: [services().KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
    socketFactory,
    requestTimeout: 1_500,
  });
  const consumer = kafka.consumer.bind(kafka);
  kafka.consumer = (config) => consumer({ maxWaitTimeInMs: 500, ...config });
  const sink = h.sink({ kafka });
  await sink.start();
  const produce = (from: number, to: number, title: string) =>
    h!.produce(
      h!.topics.users,
      Array.from({ length: to - from }, (_, i) => ({
        key: userId(from + i),
        value: user(userId(from + i), { title }),
      })),
    );
  await produce(0, 200, 'before');
  await waitFor('the sink to write the first rows', 60_000, async () => (await h!.rows('users', 'id')).length === 200);
  expect(silence()).toBeGreaterThan(0);
  await produce(200, 400, 'after');
  await waitFor('the sink to write the rows produced after the silence', 90_000, async () => {
    return (await h!.rows('users', 'id')).length === 400;
  });
  await sink.stop();
}, 150_000);
