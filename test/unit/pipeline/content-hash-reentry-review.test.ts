import { createHash } from 'node:crypto';
import { contentHash } from '../../../pipeline/records';

/**
 * Review (s9-rev-cpu) of pipeline/records.ts contentHash: the row's text is written into one buffer per
 * process (HashText). The string form it replaced had no shared state. A value that is not a string is
 * turned into text (`${v}`) while the row's earlier bytes sit in the shared buffer; if that conversion
 * (or a getter on the row) computes another content hash, the inner call writes from byte 0 and the outer
 * digest is of clobbered bytes. Not reachable from the Bulk CSV rows today (their values are strings
 * and plain data properties); it pins the single-caller assumption the buffer rests on.
 */
function before(row: Readonly<Record<string, string>>, seed: string): string {
  let text = seed;
  for (const k in row) text += `\u0001${k}\u0000${row[k]}`;
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

it("a value whose text is computed by another content hash: the string form's digest", () => {
  const inner = { Id: '005Hn00000AbCdEIAV', Name: 'inner' };
  const v = { toString: () => contentHash(inner, 'another-seed') };
  const row = { Id: '005Hn00000ZzZzZIAV', Name: 'Ann', Note: v as unknown as string };
  expect(contentHash(row, 'mapping-fingerprint')).toBe(before(row, 'mapping-fingerprint'));
});
