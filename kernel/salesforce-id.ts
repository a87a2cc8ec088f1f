/**
 * Salesforce record Ids: a 15-character case-sensitive Id plus, in the 18-character form, a
 * 3-character case-safe suffix derived from it. Code that keeps millions of Ids keeps the
 * 15-character form and derives the suffix again (`longId`).
 */
const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/**
 * The 3-character case-safe suffix of a 15-character Salesforce Id. simulator/ids.ts has its
 * own copy on purpose: the simulator is the tests' independent source of truth and imports no
 * product code, so a mistake here cannot hide by agreeing with itself.
 */
export function checksum(id15: string): string {
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let j = 0; j < 5; j++) {
      const c = id15.charCodeAt(chunk * 5 + j);
      if (c >= 65 && c <= 90) bits |= 1 << j;
    }
    out += SUFFIX[bits];
  }
  return out;
}

/** The 15-character form of an 18-character Id whose suffix is its checksum, else undefined. */
export function shortId(id: string): string | undefined {
  if (id.length !== 18) return undefined;
  const id15 = id.slice(0, 15);
  return checksum(id15) === id.slice(15) ? id15 : undefined;
}

/** The 18-character form of a 15-character Id. */
export function longId(id15: string): string {
  return id15 + checksum(id15);
}
