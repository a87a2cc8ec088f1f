import type { TopicCodec } from '../schemas/codec';
import { decodeStringKey } from '../schemas/keys';
import type { StateCodec } from './kafka/state-store';
import type { RunState, UsersReadState } from './run-state';

/**
 * The users read's state travels in the run-state record's streamWatermarks map under keys no
 * declared stream can have (stream names are lower-case letters, digits and dashes): the record's
 * schema stays as it is, and state written before reads as "never recorded" (a full read).
 */
const USERS_READ_KEYS = {
  watermark: '#users.watermark',
  fullReadAt: '#users.fullReadAt',
  shape: '#users.shape',
} as const;

/** The state topic's codec: Avro through the registry, like every other topic. */
export function stateCodec(codec: TopicCodec): StateCodec {
  return {
    encodeKey: (k) => codec.encodeKey(k),
    decodeKey: decodeStringKey,
    encodeValue: (s) => codec.encodeValue(packUsersRead(s)),
    decodeValue: async (b) => unpackUsersRead(await codec.decodeValue<RunState>(b)),
  };
}

/** The state as the record carries it: usersRead folded into streamWatermarks. */
export function packUsersRead(s: RunState): Omit<RunState, 'usersRead'> {
  const { usersRead, ...rest } = s;
  if (!usersRead) return rest;
  const packed = Object.fromEntries(
    Object.entries(USERS_READ_KEYS).map(([k, key]) => [key, usersRead[k as keyof UsersReadState]]),
  );
  return { ...rest, streamWatermarks: { ...rest.streamWatermarks, ...packed } };
}

/** The state as the pipeline handles it: usersRead taken out of streamWatermarks (null when absent). */
export function unpackUsersRead(s: RunState): RunState {
  const marks = { ...s.streamWatermarks };
  const values = Object.values(USERS_READ_KEYS).map((key) => marks[key]);
  for (const key of Object.values(USERS_READ_KEYS)) delete marks[key];
  const [watermark, fullReadAt, shape] = values;
  const complete = values.every((v) => typeof v === 'number' && Number.isFinite(v));
  return {
    ...s,
    streamWatermarks: s.streamWatermarks && Object.keys(marks).length > 0 ? marks : null,
    usersRead: complete ? { watermark, fullReadAt, shape } : null,
  };
}
