/**
 * SOQL building. Every query is assembled from constants, from field names that describe
 * returned (checked again here against a strict pattern), from the whitelisted status types and
 * from datetimes formatted by code. No configuration string is ever pasted into SOQL.
 */
import { LOGINS } from '../../schemas/streams/logins';
import { USERS } from '../../schemas/streams/users';
import type { UserStatus } from './config';

const NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){0,5}$/;
// the objects' names are their declarations' (schemas/streams); UserLogin only joins User
const OBJECTS = new Set([USERS.object, 'UserLogin', LOGINS.object]);

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
export const USER_LOGIN_FLAGS_QUERY =
  'SELECT UserId, IsFrozen, IsPasswordLocked FROM UserLogin WHERE IsFrozen = true OR IsPasswordLocked = true';

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

/**
 * `filters`: further conditions on User, built by user-filter.ts from describe-checked names and
 * code-quoted literals (never configuration text), AND-ed with the status condition.
 */
export function buildUserQuery(
  fields: readonly string[],
  statuses: readonly UserStatus[],
  filters: readonly string[] = [],
): string {
  if (statuses.length === 0) throw new RangeError('SOQL: no user status selected');
  const where = [userStatusWhere(statuses), ...filters].filter((w): w is string => w !== null);
  return select(fields, USERS.object, where.length > 0 ? where.join(' AND ') : null);
}

/**
 * The User conditions a LoginHistory semi-join can carry: the IsActive part of the status filter
 * (SOQL cannot nest the UserLogin semi-join that tells frozen users apart; the extractor does
 * that client-side) and the user filters. null when every user is imported.
 */
export function loginUserWhere(statuses: readonly UserStatus[], filters: readonly string[]): string | null {
  const has = (s: UserStatus) => statuses.includes(s);
  const active =
    !has('inactive') && (has('active') || has('frozen'))
      ? 'IsActive = true'
      : has('inactive') && !has('active') && !has('frozen')
        ? 'IsActive = false'
        : null;
  const where = [active, ...filters].filter((w): w is string => w !== null);
  return where.length > 0 ? where.join(' AND ') : null;
}

/** LoginHistory from `since` on, inclusive (the caller subtracts the overlap); only the imported users' when
 *  `userWhere` is set. */
export function buildLoginQuery(fields: readonly string[], since: Date, userWhere: string | null = null): string {
  const time = `LoginTime >= ${soqlDateTime(since)}`;
  return select(
    fields,
    LOGINS.object,
    userWhere ? `${time} AND UserId IN (SELECT Id FROM User WHERE ${userWhere})` : time,
  );
}

const OBJECT = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * A declared stream's query: its describe-confirmed fields FROM its object, optionally only the
 * rows at or after a watermark (a datetime formatted by code). The object name comes from a
 * declaration in the code, never from configuration, and is checked all the same.
 */
export function buildStreamQuery(
  object: string,
  fields: readonly string[],
  since: { field: string; from: Date } | null,
): string {
  if (!OBJECT.test(object)) throw new RangeError(`SOQL: refusing object name ${JSON.stringify(object)}`);
  const where = since ? `${fieldList([since.field])} >= ${soqlDateTime(since.from)}` : null;
  return `SELECT ${fieldList(fields)} FROM ${object}${where ? ` WHERE ${where}` : ''}`;
}

/** Salesforce's documented default limit on the length of a SOQL statement. */
export const MAX_SOQL_LENGTH = 100_000;
const RECORD_ID = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;

/** What the Id-only snapshot reads: the key, and IsActive, which the exact status classification needs. */
export const USER_ID_SNAPSHOT_FIELDS = ['Id', 'IsActive'] as const;

/** The selection's users, Id and IsActive only (~30 bytes a row): the base of deletions in an incremental run. */
export function buildUserIdQuery(statuses: readonly UserStatus[], filters: readonly string[] = []): string {
  return buildUserQuery(USER_ID_SNAPSHOT_FIELDS, statuses, filters);
}

/** The selection's users whose User row changed at or after `since` (the caller subtracts the overlap). */
export function buildChangedUserQuery(
  fields: readonly string[],
  statuses: readonly UserStatus[],
  filters: readonly string[],
  since: Date,
): string {
  return buildUserQuery(fields, statuses, [...filters, `SystemModstamp >= ${soqlDateTime(since)}`]);
}

/**
 * The selection's users with these Ids, in as few statements as the SOQL length limit allows (each
 * `<selection> AND Id IN ('…', …)`, at most `maxLength` characters: ~4,400 Ids each at the default).
 * Ids are checked against the record Id pattern: nothing else is pasted into the statement.
 */
export function buildUserByIdQueries(
  fields: readonly string[],
  statuses: readonly UserStatus[],
  filters: readonly string[],
  ids: readonly string[],
  maxLength = MAX_SOQL_LENGTH,
): string[] {
  return idQueries(`${buildUserQuery(fields, statuses, [...filters, 'Id IN ('])}`, ids, maxLength);
}

/** A declared stream's rows with these Ids (the few an incremental read found new but did not read). */
export function buildStreamByIdQueries(
  object: string,
  fields: readonly string[],
  ids: readonly string[],
  maxLength = MAX_SOQL_LENGTH,
): string[] {
  return idQueries(`${buildStreamQuery(object, fields, null)} WHERE Id IN (`, ids, maxLength);
}

/** `<head>'…', '…')` statements of at most `maxLength` characters; Ids checked against the record Id pattern. */
function idQueries(head: string, ids: readonly string[], maxLength: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const id of ids) {
    if (!RECORD_ID.test(id)) throw new RangeError(`SOQL: refusing record Id ${JSON.stringify(id)}`);
    const item = `'${id}'`;
    if (current !== '' && head.length + current.length + 2 + item.length + 1 > maxLength) {
      out.push(`${head}${current})`);
      current = '';
    }
    if (head.length + item.length + 1 > maxLength)
      throw new RangeError('SOQL: the field list leaves no room for an Id');
    current = current === '' ? item : `${current}, ${item}`;
  }
  if (current !== '') out.push(`${head}${current})`);
  return out;
}
