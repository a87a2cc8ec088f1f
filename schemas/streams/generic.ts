import { LOGINS, STREAMS, USERS } from './index';
import type { StreamDeclaration } from './types';

/**
 * The declared streams the generic path runs (pipeline/streams): every one but User and
 * LoginHistory, which keep their specialised code (pipeline/sync.ts) and read their names from
 * their declarations.
 */
export const GENERIC_STREAMS: readonly StreamDeclaration[] = STREAMS.filter((s) => s !== USERS && s !== LOGINS);
