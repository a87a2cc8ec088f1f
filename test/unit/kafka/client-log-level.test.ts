import { logLevel } from 'kafkajs';
import { kafkaLogLevel } from '../../../kafka/client';
import { closedOnPurpose } from '../../../kafka/connections';

describe('kafkajs log entries', () => {
  const entry = (level: logLevel, log: Record<string, unknown>) => ({
    level,
    log: { timestamp: '', logger: 'kafkajs', message: 'm', ...log },
  });

  it.each([
    // retried by kafkajs itself: the caller sees the error if the retries run out
    [logLevel.ERROR, { error: "The coordinator is loading and hence can't process requests for this group" }, 'debug'],
    [
      logLevel.ERROR,
      { error: 'There is no leader for this topic-partition as we are in the middle of a leadership election' },
      'debug',
    ],
    [logLevel.ERROR, { error: 'This server does not host this topic-partition' }, 'debug'],
    // not retriable: stays an error
    [logLevel.ERROR, { error: 'Not authorized to access topics: [Topic authorization failed]' }, 'error'],
    [
      logLevel.ERROR,
      { error: 'The request included a message larger than the max message size the server will accept' },
      'error',
    ],
    // a socket a read closed itself (a request timed out: connecting again; the read ended): not an error
    [logLevel.ERROR, { message: `Connection error: ${closedOnPurpose('connecting again').message}` }, 'debug'],
    [logLevel.ERROR, { message: 'Connection error: read ECONNRESET' }, 'error'],
    [logLevel.ERROR, {}, 'error'],
    [logLevel.WARN, {}, 'warn'],
    [logLevel.INFO, {}, 'debug'],
  ])('level %s with %j is %s', (level, log, expected) => {
    expect(kafkaLogLevel(entry(level, log))).toBe(expected);
  });
});
