import { withoutAborted } from '../../../kafka/partition-reader';
import type { RawMessage } from '../../../kafka/read-cluster';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages') as (args: {
  messages: RawMessage[];
  abortedTransactions: { producerId: string; firstOffset: string }[];
}) => RawMessage[];

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

function record(offset: number, producerId: string, inTransaction = true): RawMessage {
  return {
    offset: String(offset),
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(`v${offset}`),
    timestamp: '0',
    attributes: 0,
    headers: {},
    batchContext: { firstOffset: String(offset), lastOffsetDelta: 0, producerId, inTransaction },
  } as RawMessage;
}
function marker(offset: number, producerId: string, key: Buffer): RawMessage {
  return { ...record(offset, producerId), key, isControlRecord: true };
}

describe('withoutAborted', () => {
  // producers 1 and 2 abort transactions that both started before the fetch's first record (a
  // `from` inside them); producer 3 commits in between; a plain record stays
  const raw = [
    record(10, '2'),
    record(11, '1'),
    record(12, '3'),
    record(13, 'p', false),
    marker(14, '1', ABORT),
    marker(15, '3', COMMIT),
    record(16, '2'),
    marker(17, '2', ABORT),
    record(18, '1'), // a later transaction of producer 1, not listed as aborted: kept
  ];
  // the broker lists them as they ended, not by first offset
  const aborted = [
    { producerId: '1', firstOffset: '4' },
    { producerId: '2', firstOffset: '2' },
  ];

  it("drops every record of the aborted transactions and keeps the others (kafkajs's filter did not)", () => {
    const kept = withoutAborted(raw, aborted).map((m) => m.offset);
    expect(kept).toEqual(['12', '13', '14', '15', '17', '18']);
    // kafkajs 2.2.4 starts one listed transaction per record: the first record leaks
    expect(filterAbortedMessages({ messages: raw, abortedTransactions: aborted }).map((m) => m.offset)).toContain('10');
  });
});
