import type { TopicCodec } from '../schemas/codec';
import { avroType } from '../schemas/avro';
import { unframe } from '../schemas/wire';
import type { StateCodec } from './kafka/state-store';
import type { RunState } from './run-state';

/**
 * Every key of the connector's topics is an Avro `string` (schemas/avro/string-key.avsc), whose
 * writer schema never changes; decoding one needs no registry call.
 */
const STRING = avroType('string');

export function decodeStringKey(key: Buffer): string {
  return STRING.fromBuffer(unframe(key).body) as string;
}

/** The state topic's codec: Avro through the registry, like every other topic. */
export function stateCodec(codec: TopicCodec): StateCodec {
  return {
    encodeKey: (k) => codec.encodeKey(k),
    decodeKey: decodeStringKey,
    encodeValue: (s) => codec.encodeValue(s),
    decodeValue: (b) => codec.decodeValue<RunState>(b),
  };
}
