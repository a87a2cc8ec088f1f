import { FatalError } from '../../kernel/errors';
import { sameStrings, shapeBuilder, type ShapeBuilder } from '../../kernel/fixed-shape';
import type { Mapping } from '../../schemas/mapping';
import type { LoginEventRecord } from './login-event';
import type { UserRecord } from './user';

/**
 * Copies the device information of a user's latest login into the user record: every user
 * mapping row with source_object LoginHistory takes the value of the login event field mapped
 * from the same LoginHistory field (Browser -> browser -> deviceBrowser). Pure: returns a new
 * record. `latest` null (no login known for this user, e.g. none in LoginHistory's six months,
 * or the pipeline did not look) sets every device field to null.
 * Throws an Error when `latest` belongs to another user: that is a caller bug, not bad data.
 */
export type LatestLoginMerger = (user: UserRecord, latest: LoginEventRecord | null) => UserRecord;

/** [user target, login event target] of each device field, in the user mapping's order. */
function devicePairs(userMapping: Mapping, loginMapping: Mapping): (readonly [string, string])[] {
  return userMapping.rows
    .filter((r) => r.sourceObject === 'LoginHistory')
    .map((r) => {
      const from = loginMapping.rows.find((l) => l.sourceObject === 'LoginHistory' && l.sourceField === r.sourceField);
      if (!from)
        throw new FatalError(
          'MAPPING_INVALID',
          `user target ${r.target} wants LoginHistory.${r.sourceField}, which the login-history mapping does not map`,
        );
      return [r.target, from.target] as const;
    });
}

export function createLatestLoginMerger(userMapping: Mapping, loginMapping: Mapping): LatestLoginMerger {
  const pairs = devicePairs(userMapping, loginMapping);
  // Hot path: `{ ...user }` of a ~175-key record gave a dictionary-mode copy (slow to encode).
  // The merged record is built with one hidden class instead: the user's keys in their order,
  // then the device targets it lacks (as the spread and the assignments would order them). The
  // key list is worked out once per key list of the records coming in (a memo: every record of
  // a run has the same keys).
  let lastKeys: readonly string[] = [];
  let build: ShapeBuilder<UserRecord> = shapeBuilder([]);
  let slots: number[] = [];
  const plan = (keys: string[]) => {
    const all = [...keys];
    slots = pairs.map(([userTarget]) => {
      const at = all.indexOf(userTarget);
      return at >= 0 ? at : all.push(userTarget) - 1;
    });
    build = shapeBuilder(all);
    lastKeys = keys;
  };
  return (user, latest) => {
    if (latest && latest.userId !== user.id)
      throw new Error(`login ${latest.id} belongs to ${latest.userId}, not to user ${user.id}`);
    const keys = Object.keys(user);
    if (!sameStrings(keys, lastKeys)) plan(keys);
    const values: unknown[] = Object.values(user);
    for (let i = 0; i < pairs.length; i++) values[slots[i]] = latest ? (latest[pairs[i][1]] ?? null) : null;
    return build(values);
  };
}

/**
 * The same merge into `user` itself, for a record its caller built and drops once encoded (the sync's
 * users phase): the device fields are assigned in place instead of copying the ~175 fields into a new
 * record (3 arrays or objects of ~175 slots a user: map + merge + encode 72 -> 64 µs a user in one
 * process, docs/performance-s9-cpu.md). The user stage's records hold every device target already
 * (null), so the keys, their order and the values are the pure merge's (a target `user` lacks is
 * appended in mapping order, as the pure merge orders it): latest-login-in-place.test.ts.
 */
export function createLatestLoginAssigner(userMapping: Mapping, loginMapping: Mapping): LatestLoginMerger {
  const pairs = devicePairs(userMapping, loginMapping);
  return (user, latest) => {
    if (latest && latest.userId !== user.id)
      throw new Error(`login ${latest.id} belongs to ${latest.userId}, not to user ${user.id}`);
    const into = user as unknown as Record<string, unknown>;
    for (const [userTarget, loginTarget] of pairs) into[userTarget] = latest ? (latest[loginTarget] ?? null) : null;
    return user;
  };
}

/**
 * Reducer for "latest login per user": returns whichever of `current` and `candidate` is the
 * later successful login (ties broken by the larger Id, so the result does not depend on the
 * order events arrive in). Failed attempts are ignored: they may come from someone else's
 * device. Pure; `current` undefined means none yet.
 */
export function laterSuccessfulLogin(
  current: LoginEventRecord | undefined,
  candidate: LoginEventRecord,
): LoginEventRecord | undefined {
  if (candidate.status !== 'Success') return current;
  if (!current) return candidate;
  if (candidate.loginTime !== current.loginTime) return candidate.loginTime > current.loginTime ? candidate : current;
  return candidate.id > current.id ? candidate : current;
}
