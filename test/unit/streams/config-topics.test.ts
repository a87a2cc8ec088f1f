import { ConfigError, parseConnectorConfig, toConnectorSettings } from '../../../pipeline/config';
import { PERMISSION_SET_ASSIGNMENTS } from '../../../schemas/streams';
import { goodConfig, sources } from '../config/helpers';

/** topics.streams names a declared stream's topic; a name that is no declared stream is refused. */
const withStreams = (streams: unknown) => {
  const c = goodConfig() as Record<string, unknown>;
  return { ...c, topics: { ...((c.topics as object) ?? {}), streams } };
};

it('topics.streams gives a declared stream its topic; the others keep their declared defaults', () => {
  const c = parseConnectorConfig(withStreams({ 'permission-set-assignments': 'acme.psa' }), sources(), 'test.yaml');
  expect(toConnectorSettings(c).topics.streams).toEqual({ [PERMISSION_SET_ASSIGNMENTS.name]: 'acme.psa' });
});

it('a stream that is not declared, or a topic that is no topic name, is refused naming the field', () => {
  const err = (() => {
    try {
      const streams = { 'no-such-stream': 'x', 'user-licenses': 'bad topic!' };
      parseConnectorConfig(withStreams(streams), sources(), 'test.yaml');
    } catch (e) {
      return e as ConfigError;
    }
    throw new Error('expected a ConfigError');
  })();
  expect(err).toBeInstanceOf(ConfigError);
  expect(err.message).toContain('topics.streams.no-such-stream');
  expect(err.message).toContain('topics.streams.user-licenses');
});
