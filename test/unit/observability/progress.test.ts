import { createProgressReporter, renderProgress } from '../../../pipeline/observability/progress';
import type { SyncProgress } from '../../../pipeline/sync';
import type { Logger } from '../../../kernel/logger';

/** Randomized with a printed seed; replay with SF_TEST_SEED=<seed>. */
const seed = Number(process.env.SF_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
let state = seed;
const rnd = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
beforeAll(() => console.log(`progress seed ${seed} (replay: SF_TEST_SEED=${seed})`));

const base: SyncProgress = {
  phase: 'users',
  usersExtracted: 0,
  usersPublished: 0,
  usersUnchanged: 0,
  usersTombstoned: 0,
  usersToDelete: 0,
  loginEventsPublished: 0,
  loginDuplicatesDropped: 0,
  deadLettered: 0,
  loginEventsRead: 0,
};

function fakeStream(isTTY: boolean, columns = 100) {
  const written: string[] = [];
  return {
    written,
    stream: { isTTY, columns, write: (s: string) => (written.push(s), true) } as unknown as NodeJS.WriteStream,
  };
}

function recordingLogger(): Logger & { lines: { msg: string; fields?: Record<string, unknown> }[] } {
  const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
  const l = {
    lines,
    debug() {},
    warn() {},
    error() {},
    info: (msg: string, fields?: Record<string, unknown>) => void lines.push({ msg, fields }),
    child: () => l,
  };
  return l as never;
}

describe('renderProgress', () => {
  it('shows the percent of the known total and the ETA from the phase rate (fake clock)', () => {
    for (let i = 0; i < 50; i++) {
      const total = 1 + Math.floor(rnd() * 100_000);
      const done = Math.floor(rnd() * (total + 1));
      const elapsedMs = 1000 + Math.floor(rnd() * 3_600_000);
      const line = renderProgress({ phase: 'users', done, total, phaseElapsedMs: elapsedMs, width: 120 });
      const percent = Math.floor((done / total) * 100);
      expect(line).toContain(`${percent}%`);
      expect(line).toContain(`${done}/${total}`);
      const eta = /ETA (\d+):(\d\d):(\d\d)/.exec(line);
      if (done === 0) {
        expect(line).toContain('ETA --:--:--');
        continue;
      }
      const expected = Math.round(((elapsedMs / done) * (total - done)) / 1000);
      expect(eta).not.toBeNull();
      expect(Number(eta![1]) * 3600 + Number(eta![2]) * 60 + Number(eta![3])).toBe(expected);
      const bar = /\[([#-]+)\]/.exec(line)![1];
      expect(bar.split('').filter((c) => c === '#').length).toBe(Math.floor((done / total) * bar.length));
    }
  });

  it('without a known total: counts and rate, no percent', () => {
    const line = renderProgress({ phase: 'logins', done: 500, total: undefined, phaseElapsedMs: 10_000, width: 80 });
    expect(line).toContain('logins');
    expect(line).toContain('500');
    expect(line).toContain('50/s');
    expect(line).not.toMatch(/%|ETA/);
  });

  it('never writes past the terminal width', () => {
    const line = renderProgress({ phase: 'users', done: 123_456, total: 999_999, phaseElapsedMs: 5_000, width: 40 });
    expect(line.length).toBeLessThanOrEqual(39);
  });
});

describe('createProgressReporter', () => {
  it('on a terminal: draws the bar of each phase with the total the extraction announced', () => {
    let now = 0;
    const { written, stream } = fakeStream(true);
    const r = createProgressReporter({ stream, logger: recordingLogger(), now: () => now, env: {} });
    r.update({ ...base, phase: 'logins', loginEventsRead: 0, expected: 400 });
    now = 4000;
    r.update({ ...base, phase: 'logins', loginEventsRead: 100, expected: 400 });
    // eslint-disable-next-line no-control-regex -- a terminal progress line starts with ESC [2K (erase the line)
    expect(written.at(-1)).toMatch(/^\r\x1b\[2Klogins .*25% 100\/400 .*ETA 0:00:12/);
    now = 5000;
    r.update({ ...base, phase: 'users', loginEventsRead: 400, expected: 1000 });
    now = 7000;
    r.update({ ...base, phase: 'users', usersExtracted: 500, loginEventsRead: 400, expected: 1000 });
    // the users phase has its own clock: 500 in 2 s, 500 to go
    expect(written.at(-1)).toMatch(/users .*50% 500\/1000 .*ETA 0:00:02/);
    r.finish();
    expect(written.at(-1)).toBe('\n');
  });

  it('not on a terminal (a log file, a pipe): no bar, no control characters; JSON progress lines', () => {
    const { written, stream } = fakeStream(false);
    const logger = recordingLogger();
    const r = createProgressReporter({ stream, logger, now: () => 0, env: {} });
    r.update({ ...base, phase: 'users', usersExtracted: 10, expected: 40 });
    r.finish();
    expect(written).toEqual([]);
    expect(logger.lines[0]).toMatchObject({
      msg: 'run progress',
      fields: { phase: 'users', expected: 40, percent: 25 },
    });
  });

  it('LOG_FORMAT=json on a terminal: no bar either (the lines are for a machine)', () => {
    const { written, stream } = fakeStream(true);
    const r = createProgressReporter({ stream, logger: recordingLogger(), now: () => 0, env: { LOG_FORMAT: 'json' } });
    r.update({ ...base, usersExtracted: 1, expected: 2 });
    r.finish();
    expect(written).toEqual([]);
  });
});
