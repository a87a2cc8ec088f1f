import { LOGINS } from './logins';
import type { StreamDeclaration } from './types';
import { USERS } from './users';
import { PERMISSION_SET_ASSIGNMENTS } from './permission-set-assignments';
import { PERMISSION_SET_LICENSE_ASSIGNMENTS } from './permission-set-license-assignments';
import { USER_LICENSES } from './user-licenses';

export type { StreamDeclaration } from './types';
export { USERS, LOGINS, USER_LICENSES, PERMISSION_SET_LICENSE_ASSIGNMENTS, PERMISSION_SET_ASSIGNMENTS };

/** Every declared stream, in the order a run reads them. */
export const STREAMS: readonly StreamDeclaration[] = [
  LOGINS,
  USERS,
  USER_LICENSES,
  PERMISSION_SET_LICENSE_ASSIGNMENTS,
  PERMISSION_SET_ASSIGNMENTS,
];
