import { avroType, loadConnectorSchemas } from '../../../schemas/avro';
import { newRunState, type RunState } from '../../../pipeline/run-state';
import { decodeFramed, encodeFramed } from '../../../schemas/wire';

const type = avroType(loadConnectorSchemas().runStateValue);
const full: RunState = {
  connectorName: 'acme-salesforce',
  runId: 'run-7',
  status: 'succeeded',
  startedAt: Date.UTC(2024, 4, 2, 8),
  endedAt: Date.UTC(2024, 4, 2, 8, 5),
  usersExtracted: 200,
  usersPublished: 12,
  usersUnchanged: 188,
  usersTombstoned: 1,
  loginEventsPublished: 950,
  deadLettered: 0,
  loginHistoryWatermark: Date.UTC(2024, 4, 2, 7, 59),
  loginHistoryRecentIds: ['0Ya000000000001AAA', '0Ya000000000002AAA'],
  loginHistoryRecentIdsPacked: Buffer.from([1, 2, 3]),
  apiRequestsUsed: 1520,
  apiRequestsMax: 100000,
  message: null,
  scheduledFor: Date.UTC(2024, 4, 2, 8),
  attempt: 2,
  host: 'worker-1',
  pid: 4242,
  heartbeatAt: Date.UTC(2024, 4, 2, 8, 4),
  orgId: '00DHn0000001AbCMAU',
  sourceFields: ['User.Id', 'LoginHistory.Browser'],
  streamWatermarks: { 'some-stream': 1_700_000_000_000 },
};

describe('run-state record', () => {
  test("the pipeline's RunState (pipeline/run-state.ts) and the Avro schema have the same fields", () => {
    const names = (loadConnectorSchemas().runStateValue as { fields: { name: string }[] }).fields.map((f) => f.name);
    expect(Object.keys(newRunState('c', 'r', 0)).sort()).toEqual([...names].sort());
    expect(Object.keys(full).sort()).toEqual([...names].sort());
  });

  test('a fresh run state encodes', () => {
    expect(decodeFramed(type, encodeFramed(type, 5, newRunState('c', 'r', 1))).value).toEqual(newRunState('c', 'r', 1));
  });

  test.each<[string, Partial<RunState>]>([
    ['a succeeded run', {}],
    ['a running run (no end, no watermark yet)', { status: 'running', endedAt: null, loginHistoryWatermark: null }],
    [
      'a failed run with a reason',
      {
        status: 'failed',
        message: 'REQUEST_LIMIT_EXCEEDED: daily API limit reached',
        apiRequestsUsed: null,
        apiRequestsMax: null,
      },
    ],
  ])('%s encodes and decodes unchanged', (_name, change) => {
    const state = { ...full, ...change };
    expect(decodeFramed(type, encodeFramed(type, 5, state)).value).toEqual(state);
  });

  test('an unknown status is refused by the schema', () => {
    expect(() => encodeFramed(type, 5, { ...full, status: 'partial' })).toThrow(
      expect.objectContaining({ field: 'status' }),
    );
  });
});
