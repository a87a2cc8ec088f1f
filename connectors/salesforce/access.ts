/**
 * What the integration user may read, decided from describe before any query, and what the
 * connector does without it. A restricted user degrades, it never deletes:
 *
 *   object         permission Salesforce asks for               without it
 *   ────────────   ──────────────────────────────────────────   ──────────────────────────────────────
 *   User           API Enabled; every user needs "View All      (fatal: nothing to import)
 *                  Users" (or "Manage Users"), else sharing
 *                  rules limit what the user sees
 *   LoginHistory   "Manage Users" or "Monitor Login History"    loginHistory auto: no login events and
 *                                                               no device fields (a warning); enabled:
 *                                                               the run refuses
 *   UserLogin      "Manage Users"                               frozen/password-locked flags unknown
 *                                                               (left out of the rows, never false);
 *                                                               a status filter that must tell active
 *                                                               from frozen refuses to run
 */
import { FatalError } from '../../kernel/errors';
import type { UserStatus } from './user-status';
import type { Describer } from './describe';

export const LOGIN_HISTORY_MODES = ['auto', 'enabled', 'disabled'] as const;
export type LoginHistoryMode = (typeof LOGIN_HISTORY_MODES)[number];

export const PERMISSIONS = {
  User: '"API Enabled", and "View All Users" (or "Manage Users") to see every user',
  LoginHistory: '"Manage Users" or "Monitor Login History"',
  UserLogin: '"Manage Users"',
} as const;

export interface Feature {
  enabled: boolean;
  /** Why it is off (absent when on). */
  reason?: string;
}

export interface OrgAccess {
  /** Login events and the latest-login device fields of users. */
  loginHistory: Feature;
  /** Frozen and password-locked flags (and telling active from frozen users). */
  userLogin: Feature;
}

const readable = async (describe: Describer, object: string): Promise<boolean> => {
  const d = await describe(object);
  return d !== null && d.queryable !== false;
};

/**
 * Probes LoginHistory and UserLogin. `loginHistory: enabled` makes an unreadable LoginHistory a
 * FatalError naming the permission; `disabled` never asks.
 */
export async function probeAccess(describe: Describer, mode: LoginHistoryMode): Promise<OrgAccess> {
  const [history, userLogin] = await Promise.all([
    mode === 'disabled' ? Promise.resolve(false) : readable(describe, 'LoginHistory'),
    readable(describe, 'UserLogin'),
  ]);
  const unreadable = (o: 'LoginHistory' | 'UserLogin') =>
    `${o} is not readable by the integration user (it needs ${PERMISSIONS[o]})`;
  if (mode === 'enabled' && !history) {
    throw new FatalError(
      'SALESFORCE_PERMISSION_MISSING',
      `${unreadable('LoginHistory')}; loginHistory is enabled, so the run ` +
        'refuses. Grant the permission, or set loginHistory: auto (or disabled) to import users without login events.',
    );
  }
  return {
    loginHistory: history
      ? { enabled: true }
      : {
          enabled: false,
          reason: mode === 'disabled' ? 'loginHistory: disabled in the config' : unreadable('LoginHistory'),
        },
    userLogin: userLogin ? { enabled: true } : { enabled: false, reason: unreadable('UserLogin') },
  };
}

/** True when the selected statuses include exactly one of active and frozen: only UserLogin tells them apart. */
export function statusNeedsUserLogin(statuses: readonly UserStatus[]): boolean {
  return statuses.includes('active') !== statuses.includes('frozen');
}

/** The refusal when the status filter cannot be decided: never guess, since a wrong guess deletes users. */
export function statusFilterRefusal(statuses: readonly UserStatus[]): FatalError {
  return new FatalError(
    'SALESFORCE_PERMISSION_MISSING',
    `userStatus ${statuses.join(', ')} must tell active from frozen users, which needs UserLogin, ` +
      `and UserLogin is not readable by the integration user (it needs ${PERMISSIONS.UserLogin}). ` +
      'The run refuses and deletes nothing. Grant ' +
      'the permission, or select active and frozen together (or inactive only).',
  );
}
