/**
 * SOQL building. Every query is assembled from constants, from field names that describe
 * returned (checked again here against a strict pattern), from the whitelisted status types and
 * from datetimes formatted by code. No configuration string is ever pasted into SOQL.
 */
import type { UserStatus } from './config';

const NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){0,5}$/;
const OBJECTS = new Set(['User', 'UserLogin', 'LoginHistory']);

function fieldList(fields: readonly string[]): string {
  if (fields.length === 0) throw new RangeError('SOQL: empty field list');
  for (const f of fields) if (!NAME.test(f)) throw new RangeError(`SOQL: refusing field name ${JSON.stringify(f)}`);
  return fields.join(', ');
}

function select(fields: readonly string[], object: string, where: string | null): string {
  if (!OBJECTS.has(object)) throw new RangeError(`SOQL: unknown object ${object}`);
  return `SELECT ${fieldList(fields)} FROM ${object}${where ? ` WHERE ${where}` : ''}`;
}

/** A SOQL datetime literal, UTC, to the second (floored: a lower bound only ever widens). */
export function soqlDateTime(d: Date): string {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('SOQL: invalid date');
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Users that UserLogin flags (frozen or password-locked): few by nature, so held as id sets. */
export const USER_LOGIN_FLAGS_QUERY = 'SELECT UserId, IsFrozen, IsPasswordLocked FROM UserLogin WHERE IsFrozen = true OR IsPasswordLocked = true';

const FROZEN_SEMI_JOIN = 'Id IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)';

/**
 * The server-side part of the status filter: it narrows what Salesforce sends; the exact
 * classification (user-status.ts) is applied to every row afterwards. SOQL forbids a semi-join
 * inside OR, so mixed selections are narrowed as far as AND allows:
 *   active            IsActive = true                       (frozen rows dropped client-side)
 *   frozen            IsActive = true AND Id IN (frozen)    (semi-join on UserLogin)
 *   active+frozen     IsActive = true
 *   inactive          IsActive = false
 *   active+inactive, inactive+frozen, all three: no WHERE   (classified client-side)
 */
export function userStatusWhere(statuses: readonly UserStatus[]): string | null {
  const has = (s: UserStatus) => statuses.includes(s);
  const [a, i, f] = [has('active'), has('inactive'), has('frozen')];
  if (i && !a && !f) return 'IsActive = false';
  if (!i && f && !a) return `IsActive = true AND ${FROZEN_SEMI_JOIN}`;
  if (!i && (a || f)) return 'IsActive = true';
  return null;
}

export function buildUserQuery(fields: readonly string[], statuses: readonly UserStatus[]): string {
  if (statuses.length === 0) throw new RangeError('SOQL: no user status selected');
  return select(fields, 'User', userStatusWhere(statuses));
}

/** LoginHistory from `since` on, inclusive (the caller subtracts the overlap). */
export function buildLoginQuery(fields: readonly string[], since: Date): string {
  return select(fields, 'LoginHistory', `LoginTime >= ${soqlDateTime(since)}`);
}
