/**
 * A zigzag varint/varlong of `n` as Kafka's record format writes it, canonical or padded with `pad`
 * continuation bytes (a longer encoding of the same number, which decoders must accept up to their
 * limit). The record decoders' tests build records byte by byte with it.
 */
export function varNum(n: bigint, pad = 0): number[] {
  let z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
  const out: number[] = [];
  do {
    out.push(Number(z & 0x7fn));
    z >>= 7n;
  } while (z > 0n);
  for (let i = 0; i < pad; i++) out.push(0);
  for (let i = 0; i < out.length - 1; i++) out[i] |= 0x80;
  return out;
}
