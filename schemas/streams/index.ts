import { LOGINS } from './logins';
import type { StreamDeclaration } from './types';
import { USERS } from './users';

export type { StreamDeclaration } from './types';
export { USERS, LOGINS };

/** Every declared stream, in the order a run reads them. */
export const STREAMS: readonly StreamDeclaration[] = [LOGINS, USERS];
