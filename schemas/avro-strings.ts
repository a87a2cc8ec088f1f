import avro from 'avsc';

/**
 * avsc's string writer with a one-pass path for short strings. Same bytes (avro-strings.test.ts,
 * STRINGS_SEED: random strings of every kind and length around the bound, into buffers cut at every
 * byte, avsc's own writer as the oracle).
 *
 * Why: avsc 5.7.9 writes a string (`Tap.writeString`) by asking `Buffer.byteLength` for its UTF-8
 * length first (a call into C++ per string), then writing the length and the characters one by one;
 * a user record has ~40 short strings. Here a string of fewer than 22 UTF-16 units (at most 63 bytes:
 * a one-byte length, and avsc itself writes such a string character by character) is written in one
 * pass behind a reserved length byte, filled in after. Encoding a user value: 19 -> 14 µs in one
 * process (docs/performance-s10-cpu.md). Own code because of that figure: avsc has no option for it.
 *
 * The characters are encoded as avsc's loop encodes them (lib/utils.js, `Tap.prototype.writeString`):
 * a surrogate pair as its 4-byte code point, a lone surrogate as its code unit in 3 bytes (what avsc
 * writes for a short string; its length prefix counts 3 bytes for it too). Anything else goes to avsc's
 * own `_write`: a value that is not a string (avsc throws its error), a longer string, a buffer that
 * might not hold the string (avsc then moves past the end, so that the encode returns minus the bytes
 * missing). The swap is process-wide (avsc's StringType prototype): every avsc string field of the
 * process writes through it; map keys (`Tap.writeString` directly) are avsc's.
 */
interface Tap {
  buf: Buffer;
  pos: number;
}
type Write = (this: avro.Type, tap: Tap, val: unknown) => void;

const proto = avro.types.StringType.prototype as unknown as { _write: Write };
const avscWrite: Write = proto._write;

/** Strings shorter than this (UTF-16 units) take the one-pass path: at most 63 bytes. */
const SHORT = 22;

export const ownStringWrite: Write = function (this: avro.Type, tap: Tap, val: unknown): void {
  if (typeof val !== 'string' || val.length >= SHORT) return avscWrite.call(this, tap, val);
  const n = val.length;
  const buf = tap.buf;
  const start = tap.pos;
  if (start + 1 + 3 * n > buf.length) return avscWrite.call(this, tap, val);
  let p = start + 1;
  for (let i = 0; i < n; i++) {
    let c = val.charCodeAt(i);
    if (c < 0x80) buf[p++] = c;
    else if (c < 0x800) {
      buf[p++] = (c >> 6) | 0xc0;
      buf[p++] = (c & 0x3f) | 0x80;
    } else if ((c & 0xfc00) === 0xd800 && i + 1 < n && (val.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x03ff) << 10) + (val.charCodeAt(++i) & 0x03ff);
      buf[p++] = (c >> 18) | 0xf0;
      buf[p++] = ((c >> 12) & 0x3f) | 0x80;
      buf[p++] = ((c >> 6) & 0x3f) | 0x80;
      buf[p++] = (c & 0x3f) | 0x80;
    } else {
      buf[p++] = (c >> 12) | 0xe0;
      buf[p++] = ((c >> 6) & 0x3f) | 0x80;
      buf[p++] = (c & 0x3f) | 0x80;
    }
  }
  // the length as avsc writes it: a zigzag varint, one byte below 64
  buf[start] = (p - start - 1) << 1;
  tap.pos = p;
};

/** avsc's string fields write through ownStringWrite from here on (schemas/wire.ts calls it at load). */
export function useOwnStringWriter(): void {
  proto._write = ownStringWrite;
}

/** avsc's own writer, for the equivalence test. */
export function useAvscStringWriter(): void {
  proto._write = avscWrite;
}
