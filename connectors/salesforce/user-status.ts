/**
 * User status, exactly one per user (see config.ts UserStatus):
 *   inactive  IsActive = false, whatever UserLogin says
 *   frozen    IsActive = true and UserLogin.IsFrozen = true
 *   active    IsActive = true and not frozen
 *
 * UserLogin holds one row per user, so the extractor does not load it whole: it reads only the
 * flagged rows (IsFrozen or IsPasswordLocked true, see soql.ts), which are few by nature, into two
 * id sets. Memory is O(flagged users), about 100 bytes each; an org with 100k frozen users would
 * spend ~10 MB here, independent of the number of users.
 */
import { FatalError } from '../../kernel/errors';
import type { Row } from './csv-page';
import { FROZEN_KEY, PASSWORD_LOCKED_KEY } from './fields';

export const USER_STATUSES = ['active', 'inactive', 'frozen'] as const;
/**
 * A user's status, exactly one per user:
 *  - inactive: IsActive = false (whatever UserLogin says);
 *  - frozen:   IsActive = true and UserLogin.IsFrozen = true;
 *  - active:   IsActive = true and not frozen.
 */
export type UserStatus = (typeof USER_STATUSES)[number];

export class UserLoginFlags {
  readonly frozen = new Set<string>();
  readonly passwordLocked = new Set<string>();

  /** Adds one row of USER_LOGIN_FLAGS_QUERY (UserId, IsFrozen, IsPasswordLocked). */
  add(row: Row): void {
    const id = row.UserId;
    if (!id) throw new FatalError('SALESFORCE_BAD_RESPONSE', 'A UserLogin row has no UserId');
    if (row.IsFrozen === 'true') this.frozen.add(id);
    if (row.IsPasswordLocked === 'true') this.passwordLocked.add(id);
  }
}

export function userStatus(row: Row, flags: UserLoginFlags): UserStatus {
  const active = row.IsActive;
  if (active === 'false') return 'inactive';
  if (active !== 'true') {
    throw new FatalError(
      'SALESFORCE_BAD_RESPONSE',
      `User ${row.Id}: IsActive is ${JSON.stringify(active)}, not true/false; cannot classify its status`,
    );
  }
  return flags.frozen.has(row.Id) ? 'frozen' : 'active';
}

/**
 * Keeps the row if its status is selected, merging the UserLogin flags into it (as the strings
 * 'true'/'false', like every other CSV value). Returns null to drop it. `known` false: UserLogin
 * was not readable, the flags are unknown and stay out of the row (never a false "not frozen");
 * the caller only filters then on what IsActive decides (access.ts statusNeedsUserLogin).
 */
export function filterUser(
  row: Row,
  statuses: ReadonlySet<UserStatus>,
  flags: UserLoginFlags,
  known = true,
): Row | null {
  if (!statuses.has(userStatus(row, flags))) return null;
  if (!known) return row;
  row[FROZEN_KEY] = flags.frozen.has(row.Id) ? 'true' : 'false';
  row[PASSWORD_LOCKED_KEY] = flags.passwordLocked.has(row.Id) ? 'true' : 'false';
  return row;
}
