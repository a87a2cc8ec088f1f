import { FROZEN_KEY, PASSWORD_LOCKED_KEY } from '../connectors/salesforce/fields';

/**
 * A user's UserLogin flags (IsFrozen, IsPasswordLocked) packed in two ASCII characters, 't' or
 * 'f' each, frozen first: what a published user record carries in header neurons-user-login, what
 * the live index keeps per user (beside the content hash, off the V8 heap) and what a run that
 * cannot read UserLogin (no Manage Users) puts back into the row, so the record keeps the flags
 * and the status the users topic last carried instead of null and a wrong 'active' (issue 14).
 * A user never published with known flags has none: they stay unknown (null).
 */
export type PackedFlags = string;
type RawRow = Readonly<Record<string, string>>;

/** The flags a raw user row holds, packed; undefined when the row does not know them. */
export function packFlags(row: RawRow): PackedFlags | undefined {
  const f = flag(row[FROZEN_KEY]);
  const l = flag(row[PASSWORD_LOCKED_KEY]);
  return f === undefined || l === undefined ? undefined : f + l;
}

/** A valid packed value (two of 't'/'f'), else undefined: a header from elsewhere is not trusted. */
export function validFlags(packed: string | undefined): PackedFlags | undefined {
  return packed !== undefined && /^[tf]{2}$/.test(packed) ? packed : undefined;
}

/**
 * The row with the carried flags put back, when this run does not know them (both keys absent)
 * and an earlier record did; else the row itself. The keys go last, where the extractor puts them
 * when UserLogin is readable, so the content hash equals the one of the record that carried them.
 */
export function withCarriedFlags(row: RawRow, carried: PackedFlags | undefined): RawRow {
  if (carried === undefined || FROZEN_KEY in row || PASSWORD_LOCKED_KEY in row) return row;
  const bool = (c: string) => (c === 't' ? 'true' : 'false');
  return { ...row, [FROZEN_KEY]: bool(carried[0]), [PASSWORD_LOCKED_KEY]: bool(carried[1]) };
}

function flag(v: string | undefined): string | undefined {
  return v === 'true' ? 't' : v === 'false' ? 'f' : undefined;
}
