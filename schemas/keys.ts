import { avroType } from './avro';
import { unframe } from './wire';

/**
 * Every key of the connector's topics is an Avro `string` (schemas/avro/string-key.avsc), whose
 * writer schema never changes; decoding one needs no registry call.
 */
const STRING = avroType('string');

export function decodeStringKey(key: Buffer): string {
  return STRING.fromBuffer(unframe(key).body) as string;
}
