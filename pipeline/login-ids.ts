import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * The LoginHistory Ids of the look-back window, packed for the state record: sorted, each 18-char
 * Id whose last 3 characters are its case-safe checksum stored as its 15-char form, front-coded
 * against the Id before it (shared prefix length, then the rest), one per line, deflated.
 * Sequential Ids share 10 or more leading characters, so an Id costs about 2 to 3 bytes instead
 * of the 20 of a JSON string: at a million logins a day, a one-hour window (about 42,000 Ids)
 * packs to roughly 100 KiB, far below Kafka's 1 MiB default message size. Lossless for any
 * string without a line break.
 */
export function packIds(ids: Iterable<string>): Buffer {
  const bodies = [...new Set(ids)].map((id) => {
    if (id.includes('\n')) throw new RangeError('an Id with a line break cannot be packed');
    const short = shortId(id);
    return short !== undefined ? `.${short}` : `:${id}`;
  });
  bodies.sort((a, b) => (a.slice(1) < b.slice(1) ? -1 : a.slice(1) > b.slice(1) ? 1 : 0));
  let prev = '';
  const lines: string[] = [];
  for (const b of bodies) {
    const body = b.slice(1);
    let shared = 0;
    const max = Math.min(35, prev.length, body.length);
    while (shared < max && prev.charCodeAt(shared) === body.charCodeAt(shared)) shared++;
    lines.push(`${shared.toString(36)}${b[0]}${body.slice(shared)}`);
    prev = body;
  }
  return deflateRawSync(Buffer.from(lines.join('\n'), 'utf8'), { level: 9 });
}

export function unpackIds(packed: Buffer): string[] {
  if (packed.length === 0) return [];
  const text = inflateRawSync(packed).toString('utf8');
  if (text === '') return [];
  const out: string[] = [];
  let prev = '';
  for (const line of text.split('\n')) {
    const shared = parseInt(line[0], 36);
    const body = prev.slice(0, shared) + line.slice(2);
    out.push(line[1] === '.' ? body + checksum(body) : body);
    prev = body;
  }
  return out;
}

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
