import {
  buildLoginQuery,
  buildUserQuery,
  soqlDateTime,
  userStatusWhere,
  USER_LOGIN_FLAGS_QUERY,
} from '../../../../connectors/salesforce/soql';
import type { UserStatus } from '../../../../connectors/salesforce/config';

describe('SOQL building', () => {
  it.each<[UserStatus[], string | null]>([
    [['active'], 'IsActive = true'],
    [['inactive'], 'IsActive = false'],
    [['frozen'], 'IsActive = true AND Id IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)'],
    [['active', 'inactive'], null],
    [['active', 'frozen'], 'IsActive = true'],
    [['inactive', 'frozen'], null],
    [['active', 'inactive', 'frozen'], null],
  ])('narrows users server-side for %j', (statuses, where) => {
    expect(userStatusWhere(statuses)).toBe(where);
  });

  it('builds the user query from the field list and the status filter', () => {
    expect(buildUserQuery(['Id', 'IsActive', 'UserRole.Name'], ['inactive'])).toBe(
      'SELECT Id, IsActive, UserRole.Name FROM User WHERE IsActive = false',
    );
  });

  it('refuses any field name that is not a plain API name or path', () => {
    expect(() => buildUserQuery(['Id FROM User --'], ['active'])).toThrow(RangeError);
    expect(() => buildUserQuery(["Name'"], ['active'])).toThrow(RangeError);
    expect(() => buildUserQuery([], ['active'])).toThrow(RangeError);
  });

  it('formats datetimes as UTC literals, floored to the second', () => {
    expect(soqlDateTime(new Date('2026-10-31T23:59:59.999Z'))).toBe('2026-10-31T23:59:59Z');
    expect(soqlDateTime(new Date('2026-01-02T03:04:05.000+02:00'))).toBe('2026-01-02T01:04:05Z');
    expect(() => soqlDateTime(new Date('nope'))).toThrow(RangeError);
  });

  it('queries LoginHistory from an inclusive lower bound', () => {
    expect(buildLoginQuery(['Id', 'LoginTime'], new Date('2026-10-01T00:00:00.500Z'))).toBe(
      'SELECT Id, LoginTime FROM LoginHistory WHERE LoginTime >= 2026-10-01T00:00:00Z',
    );
  });

  it('reads only flagged UserLogin rows', () => {
    expect(USER_LOGIN_FLAGS_QUERY).toBe(
      'SELECT UserId, IsFrozen, IsPasswordLocked FROM UserLogin WHERE IsFrozen = true OR IsPasswordLocked = true',
    );
  });
});
