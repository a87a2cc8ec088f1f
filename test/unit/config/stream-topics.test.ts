import { ConfigError, parseConnectorConfig } from '../../../pipeline/config';
import { GENERIC_STREAMS } from '../../../schemas/streams/generic';
import { goodConfig, sources } from './helpers';

/**
 * topics.streams against the other topics (issue 17): a declared stream's topic may be no other
 * topic of the connector. The streams and names are drawn at random; STREAM_TOPICS_SEED replays.
 */
const seed = Number(process.env.STREAM_TOPICS_SEED ?? Date.now() % 1_000_000);
let state = seed;
const rand = (n: number) => {
  state = (state * 1103515245 + 12345) % 2 ** 31;
  return state % n;
};
const twoStreams = () => {
  const a = GENERIC_STREAMS[rand(GENERIC_STREAMS.length)].name;
  const rest = GENERIC_STREAMS.filter((d) => d.name !== a);
  return [a, rest[rand(rest.length)].name];
};

function failure(raw: Record<string, unknown>): ConfigError {
  try {
    parseConnectorConfig(raw, sources(), 'test.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`accepted a bad config (replay: STREAM_TOPICS_SEED=${seed})`);
}

describe(`topics.streams is checked against the other topics (STREAM_TOPICS_SEED=${seed})`, () => {
  it('refuses a stream topic equal to topics.users', () => {
    const [s] = twoStreams();
    const users = `acme.users-${rand(1000)}`;
    const err = failure(goodConfig({ topics: { users, streams: { [s]: users } } }));
    expect(err.issues.map((i) => i.field)).toContain(`topics.streams.${s}`);
  });

  it("refuses two streams on one topic, naming the second stream's field", () => {
    const [a, b] = twoStreams();
    const t = `acme.shared-${rand(1000)}`;
    const err = failure(goodConfig({ topics: { streams: { [a]: t, [b]: t } } }));
    const fields = err.issues.map((i) => i.field);
    expect(fields.some((f) => f === `topics.streams.${a}` || f === `topics.streams.${b}`)).toBe(true);
  });

  it("refuses a stream topic equal to the users topic's live index", () => {
    const [s] = twoStreams();
    const users = `acme.users-${rand(1000)}`;
    const err = failure(goodConfig({ topics: { users, streams: { [s]: `${users}.live-index` } } }));
    expect(err.issues.map((i) => i.field)).toContain(`topics.streams.${s}`);
  });

  // A snapshot stream keeps its own compact live index, `<stream topic>.live-index` (stream-index.ts).
  const snapshots = GENERIC_STREAMS.filter((d) => d.mode.kind === 'snapshot').map((d) => d.name);
  const snapshotAndOther = () => {
    const a = snapshots[rand(snapshots.length)];
    const rest = GENERIC_STREAMS.filter((d) => d.name !== a);
    return [a, rest[rand(rest.length)].name];
  };

  it("refuses a stream topic equal to another snapshot stream's live index", () => {
    const [a, b] = snapshotAndOther();
    const t = `acme.stream-${rand(1000)}`;
    const err = failure(goodConfig({ topics: { streams: { [a]: t, [b]: `${t}.live-index` } } }));
    const fields = err.issues.map((i) => i.field);
    expect(fields.some((f) => f === `topics.streams.${a}` || f === `topics.streams.${b}`)).toBe(true);
  });

  it("refuses a connector topic equal to a snapshot stream's live index", () => {
    const [a] = snapshotAndOther();
    const t = `acme.stream-${rand(1000)}`;
    const which = ['users', 'loginHistory', 'deadLetter'][rand(3)];
    const err = failure(goodConfig({ topics: { [which]: `${t}.live-index`, streams: { [a]: t } } }));
    expect(err.issues.map((i) => i.field)).toContain(`topics.streams.${a}`);
  });
});

describe('the Salesforce checks report together with the rest', () => {
  it('a Lightning login URL and a bad broker are both reported', () => {
    const err = failure(
      goodConfig({ salesforceUrl: 'https://acme.lightning.force.com', kafka: { brokers: ['no port'] } }),
    );
    const fields = err.issues.map((i) => i.field).join(' ');
    expect(fields).toMatch(/kafka\.brokers/);
    expect(err.message).toMatch(/lightning/i);
  });

  it('a missing salesforceUrl and a bad broker are both reported', () => {
    const raw = goodConfig({ kafka: { brokers: ['no port'] } });
    delete raw.salesforceUrl;
    const fields = failure(raw).issues.map((i) => i.field);
    expect(fields.join(' ')).toMatch(/kafka\.brokers/);
    expect(fields).toContain('salesforceUrl');
  });
});
