/**
 * Ready-made org shapes for tests and the demo.
 *
 * MINIMAL_ORG: a restricted integration user on an org an older release serves: User only
 * (no LoginHistory, UserLogin, UserRole, Profile or UserLicense visible), 20 User fields, API
 * 58.0 at most, and none of the user-administration permissions. What the review's independent
 * emulator exposed (review-dc8dc34.md point 19).
 */
import type { SimulatorOptions } from './api';

export const MINIMAL_USER_FIELDS = [
  'Id',
  'Username',
  'Name',
  'FirstName',
  'LastName',
  'Alias',
  'Email',
  'Title',
  'Department',
  'CompanyName',
  'UserType',
  'IsActive',
  'ProfileId',
  'UserRoleId',
  'ManagerId',
  'TimeZoneSidKey',
  'LanguageLocaleKey',
  'CreatedDate',
  'LastModifiedDate',
  'LastLoginDate',
];

export const MINIMAL_ORG: SimulatorOptions = {
  objects: ['User'],
  apiUserPermissions: [],
  maxApiVersion: 58,
  userFieldsOnly: MINIMAL_USER_FIELDS,
};
