import { ConfigError } from './issues';
import type { Reader } from './reader';
import { CONFIG_ROLES, type ConfigRole, type LoadedConfig } from './types';
import { SALESFORCE_KEYS } from './validate-salesforce';
import { SCHEDULE_KEYS } from './validate-schedule';

/** What the loading process wants: a role, `any` (the file's own), or absent (the whole config). */
export type WantedRole = ConfigRole | 'any' | undefined;

export interface RoleReading {
  role: LoadedConfig['role'];
  /** False in the sink's process: no Salesforce option is read, so none of its secrets resolved. */
  readsSalesforce: boolean;
  /** False in the connector's process: the database URL never enters it. */
  readsDatabase: boolean;
}

/**
 * Reads `role` and decides what this process reads of the file. Throws a ConfigError naming
 * `role` when the file is the other role's. A file that declares its role may hold nothing of
 * the other role: it would hand that role's secrets to a process that has no use for them.
 */
export function readRole(r: Reader, wantedRole: WantedRole, source: string): RoleReading {
  const declared = r.string('role', { oneOf: CONFIG_ROLES, allowed: CONFIG_ROLES.join(', ') }) as ConfigRole | undefined;
  if (r.reported('role')) throw new ConfigError(source, r.issues.list);
  // Without a wanted role the caller wants the whole config, Salesforce included.
  const wanted = wantedRole === 'any' ? declared : (wantedRole ?? (declared === 'sink' ? 'connector' : undefined));
  if (declared && wanted && declared !== wanted) {
    r.issues.add('role', `is ${declared}: this file is the ${declared}'s, and this command runs the ${wanted}`, {
      allowed: `the ${wanted}'s own file (role: ${wanted}), or a file without role that serves both`,
    });
    throw new ConfigError(source, r.issues.list);
  }
  const foreign = (keys: readonly string[], why: string) => {
    const allowed = "remove it from this file; it belongs in the other role's file";
    for (const k of keys) if (r.has(k)) r.issues.add(k, why, { allowed });
  };
  if (declared === 'sink') {
    foreign([...SALESFORCE_KEYS, ...SCHEDULE_KEYS], 'is a connector option, and this file is for the sink (role: sink)');
  }
  if (declared === 'connector') foreign(['database'], 'is a sink option, and this file is for the connector (role: connector)');
  return {
    role: declared ?? 'both',
    readsSalesforce: (wanted ?? 'both') !== 'sink',
    readsDatabase: (wanted ?? declared ?? 'both') !== 'connector',
  };
}
