import type { TopicCodec } from '../schemas/codec';
import { decodeStringKey } from '../schemas/keys';
import type { StateCodec } from './kafka/state-store';
import type { RunState } from './run-state';

/** The state topic's codec: Avro through the registry, like every other topic. */
export function stateCodec(codec: TopicCodec): StateCodec {
  return {
    encodeKey: (k) => codec.encodeKey(k),
    decodeKey: decodeStringKey,
    encodeValue: (s) => codec.encodeValue(s),
    decodeValue: (b) => codec.decodeValue<RunState>(b),
  };
}
