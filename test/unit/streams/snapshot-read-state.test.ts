/**
 * A snapshot stream's incremental read state (pipeline/streams/read-state.ts) travels in the run
 * state's streamWatermarks beside the incremental streams' watermarks and the users' read state,
 * through the state record's packing, without touching either; and the shared plan names the
 * stream's option and rows. Randomised: READ_STATE_SEED replays.
 */
import { snapshotReadState, withSnapshotReadState } from '../../../pipeline/streams/read-state';
import { packUsersRead, unpackUsersRead } from '../../../pipeline/state-codec';
import { newRunState } from '../../../pipeline/run-state';
import { planIncrementalRead } from '../../../pipeline/users-read-plan';
import { mulberry32 } from '../../../simulator/prng';

const SEED = Number(process.env.READ_STATE_SEED ?? Math.floor(Math.random() * 1_000_000));
console.log(`READ_STATE_SEED=${SEED}`);
const rnd = mulberry32(SEED);
const int = (n: number) => Math.floor(rnd() * n);

it('round-trips each stream read state next to the other watermarks and the users read', () => {
  for (let trial = 0; trial < 50; trial++) {
    const streams = ['permission-set-assignments', 'permission-set-license-assignments', 'other'].slice(0, 1 + int(3));
    const incremental: Record<string, number> = int(2) ? { logins: int(1e12) } : {};
    let marks: Record<string, number> | null = Object.keys(incremental).length ? { ...incremental } : null;
    const want = new Map<string, { watermark: number; fullReadAt: number; shape: number } | null>();
    for (const s of streams) {
      const state = int(4) === 0 ? null : { watermark: int(2e12), fullReadAt: int(2e12), shape: int(2 ** 48) };
      marks = withSnapshotReadState(marks, s, state);
      want.set(s, state);
    }
    const usersRead = int(2) ? { watermark: int(2e12), fullReadAt: int(2e12), shape: int(2 ** 48) } : null;
    const state = { ...newRunState('c', 'r', 0), streamWatermarks: marks, usersRead };
    const back = unpackUsersRead({ ...packUsersRead(state), usersRead: undefined });
    expect(back.usersRead).toEqual(usersRead);
    for (const [s, st] of want) expect({ s, st: snapshotReadState(back.streamWatermarks, s) }).toEqual({ s, st });
    for (const [k, v] of Object.entries(incremental)) expect(back.streamWatermarks?.[k]).toBe(v);
  }
});

it('a partial or missing state reads as none: the next read is a full one', () => {
  expect(snapshotReadState(null, 's')).toBeNull();
  expect(snapshotReadState({ 's#watermark': 1, 's#shape': 2 }, 's')).toBeNull();
});

it("the plan names the stream's rows and option", () => {
  const words = {
    rows: 's rows',
    singular: 'row',
    object: 'X',
    option: 'streamsFullScanEvery',
    shape: 'the X fields',
    extractor: 'n/a',
  };
  const base = {
    previous: { watermark: 10 * 3_600_000, fullReadAt: 0, shape: 1 },
    shape: 1,
    fullRepublish: false,
    policy: { fullScanEveryMs: 24 * 3_600_000, overlapMs: 60_000 },
    hasModstamp: true,
    now: 11 * 3_600_000,
  };
  expect(planIncrementalRead(base, words)).toMatchObject({ kind: 'incremental', sinceMs: 10 * 3_600_000 - 60_000 });
  expect(planIncrementalRead({ ...base, shape: 2 }, words).reason).toBe('the X fields changed since the last run');
  expect(planIncrementalRead({ ...base, now: 25 * 3_600_000 }, words).reason).toMatch(/streamsFullScanEvery 24h/);
  expect(planIncrementalRead({ ...base, previous: null }, words).reason).toMatch(/no s rows watermark/);
});
