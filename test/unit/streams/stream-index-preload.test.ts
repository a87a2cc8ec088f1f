import type { Kafka } from 'kafkajs';
import { silentLogger } from '../../../kernel/logger';
import { LiveIndex } from '../../../pipeline/kafka/live-index';
import { StreamIndexes } from '../../../pipeline/streams/stream-index';
import type { StreamRuntime } from '../../../pipeline/streams/runtime';

/** The Kafka side of each load, scripted: the topics loaded, in order, and when each load ends. */
const log: string[] = [];
const gates = new Map<string, { promise: Promise<void>; open(): void; fail(e: Error): void }>();
function gate(topic: string) {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
  gates.set(topic, { promise, open, fail });
}

jest.mock('../../../pipeline/kafka/live-index-topic', () => ({
  LiveIndexTopic: class {
    constructor(
      _kafka: unknown,
      private readonly topic: string,
    ) {}
    async ensure(): Promise<void> {}
    useFence(): void {}
    async load() {
      log.push(`start ${this.topic}`);
      await gates.get(this.topic)!.promise;
      log.push(`end ${this.topic}`);
      const live = new LiveIndex();
      live.put(`${this.topic}-key`, { hash: 'h' });
      return { live, watermark: new Map(), refresh: () => [] };
    }
    async keepFlushed(): Promise<void> {}
  },
}));

const rt = (name: string) => ({ loaded: { decl: { name } }, topic: `${name}-topic` }) as unknown as StreamRuntime;
const indexes = () =>
  new StreamIndexes({
    kafka: {} as Kafka,
    connectorName: 'c',
    logger: silentLogger,
    fence: null,
    dryRun: true,
    replicationFactor: undefined,
  });

beforeEach(() => {
  log.length = 0;
  gates.clear();
  gate('a-topic');
  gate('b-topic');
});

describe('StreamIndexes.preload (the streams live keys loaded while the users phase runs)', () => {
  it('loads each stream once, one after the other, and its loader returns that load', async () => {
    const si = indexes();
    si.preload(rt('a'), 'org');
    si.preload(rt('b'), 'org');
    si.preload(rt('a'), 'org');
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['start a-topic']); // b waits for a
    gates.get('a-topic')!.open();
    gates.get('b-topic')!.open();
    const a = await si.loader(rt('a'), 'org')();
    const b = await si.loader(rt('b'), 'org')();
    expect(log).toEqual(['start a-topic', 'end a-topic', 'start b-topic', 'end b-topic']);
    expect([...a.keys()]).toEqual(['a-topic-key']);
    expect([...b.keys()]).toEqual(['b-topic-key']);
  });

  it('a failed load rejects its own loader only: the next one still loads', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const si = indexes();
      si.preload(rt('a'), 'org');
      si.preload(rt('b'), 'org');
      const boom = new Error('fetch failed');
      gates.get('a-topic')!.fail(boom);
      await new Promise((r) => setImmediate(r));
      expect(log).toEqual(['start a-topic', 'start b-topic']); // b starts after a failed
      gates.get('b-topic')!.open();
      await expect(si.loader(rt('a'), 'org')()).rejects.toBe(boom);
      expect([...(await si.loader(rt('b'), 'org')()).keys()]).toEqual(['b-topic-key']);
      await si.settled();
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('settled() (the run is over) waits for the load in progress and starts none of those queued', async () => {
    const si = indexes();
    si.preload(rt('a'), 'org');
    si.preload(rt('b'), 'org');
    await new Promise((r) => setImmediate(r));
    const all = si.settled();
    gates.get('a-topic')!.open();
    await all;
    expect(log).toEqual(['start a-topic', 'end a-topic']);
    await expect(si.loader(rt('b'), 'org')()).rejects.toThrow(/the run ended before the b live keys were loaded/);
  });

  it('a stream never preloaded loads when its phase asks', async () => {
    const si = indexes();
    gates.get('a-topic')!.open();
    const a = await si.loader(rt('a'), 'org')();
    expect([...a.keys()]).toEqual(['a-topic-key']);
    await si.settled();
  });
});
