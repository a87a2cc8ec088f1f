/**
 * The form Salesforce's Bulk API sends every datetime in, YYYY-MM-DDTHH:MM:SS.sssZ (24 characters),
 * read by character code: a regex's match array, its slices and their Number()s cost ~5 µs a user on a
 * full run (docs/performance-s8-cpu.md) and ~0.4 µs a login event (docs/performance-s13-cpu.md).
 * Fills `out` with year, month (1-12 as written), day, hours, minutes, seconds and milliseconds, as
 * written: no range is checked (the callers decide what a 13th month means). False, and `out` left
 * unspecified, when `text` is not exactly that form: the caller's regex decides then.
 */
export function readBulkDatetime(text: string, out: Int32Array): boolean {
  if (
    text.length !== 24 ||
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || // T
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(19) !== 46 || // .
    text.charCodeAt(23) !== 90 // Z
  )
    return false;
  out[0] = digits(text, 0, 4);
  out[1] = digits(text, 5, 2);
  out[2] = digits(text, 8, 2);
  out[3] = digits(text, 11, 2);
  out[4] = digits(text, 14, 2);
  out[5] = digits(text, 17, 2);
  out[6] = digits(text, 20, 3);
  return (out[0] | out[1] | out[2] | out[3] | out[4] | out[5] | out[6]) >= 0;
}

/** The decimal value of `n` ASCII digits of `text` from `at`, or -1 if one is not a digit. */
function digits(text: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}
