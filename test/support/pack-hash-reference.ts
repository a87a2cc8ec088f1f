/**
 * pipeline/kafka/live-index.ts packHash as it was before session 12 (a Buffer round trip through
 * base64url): the reference the tests compare the hand-written decoding with.
 */
const HASH_CHARS = 22;
const HASH_BYTES = 17;

export function packHashReference(hash: string): string {
  if (hash.length === HASH_CHARS) {
    // 22 characters are 132 bits: padded to 24, they are 18 bytes that print back the same
    const bytes = Buffer.from(`${hash}AA`, 'base64url');
    const exact = bytes.length === HASH_BYTES + 1 && bytes[HASH_BYTES] === 0;
    if (exact && bytes.toString('base64url').slice(0, HASH_CHARS) === hash)
      return `\u0000${bytes.toString('latin1', 0, HASH_BYTES)}`;
  }
  return `${String.fromCharCode(32 + hash.length)}${hash}`;
}
