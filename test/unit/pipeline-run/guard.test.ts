import { checkDeletions, DEFAULT_DELETION_GUARD, type DeletionGuardOptions } from '../../../pipeline/guard';

const guard = (over: Partial<DeletionGuardOptions> = {}): DeletionGuardOptions => ({
  ...DEFAULT_DELETION_GUARD,
  ...over,
});

describe('deletion guard', () => {
  it.each([
    // toDelete, live, options, allowed
    [0, 1000, guard(), true],
    [250, 1000, guard(), true], // exactly the share
    [251, 1000, guard(), false],
    [500, 1000, guard(), false],
    [500, 1000, guard({ override: true }), true],
    [2, 6, guard(), true], // small org: a handful passes…
    [3, 6, guard(), false], // …but never half or more of the live users
    [5, 6, guard(), false],
    [2, 3, guard(), false], // 2 of 3 (67 %): a broken filter, not a small org
    [6, 6, guard(), false],
    [100, 10_000, guard({ maxCount: 50 }), false], // 1% but over the count
    [100, 10_000, guard({ maxCount: 50, override: true }), false], // maxCount is a hard cap, even for the override
    [3, 3, guard({ maxCount: 2, alwaysAllowUpTo: 5 }), false],
    [40, 10_000, guard({ maxCount: 50 }), true],
    [10, 0, guard(), false], // nothing live but deletions asked: refuse
  ])('deleting %i of %i live users → allowed=%s', (toDelete, live, opts, allowed) => {
    expect(checkDeletions(toDelete, live, opts).allowed).toBe(allowed);
  });

  it('explains a refusal with the numbers and the override', () => {
    const verdict = checkDeletions(500, 1000, guard());
    expect(verdict.reason).toContain('500 of 1000 live users (50.0%)');
    expect(verdict.reason).toContain('at most 25.0%');
    expect(verdict.reason).toContain('--allow-mass-delete');
  });
});
