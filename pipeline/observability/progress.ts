import type { Logger } from '../../kernel/logger';
import type { SyncProgress } from '../sync';

/**
 * Shows a run's progress. On a terminal (stderr a TTY, logs not forced to JSON): one line,
 * rewritten in place, per phase a bar with the percent and the ETA. The total of a phase is the
 * Bulk job's numberRecordsProcessed, known once the job is JobComplete and before a page is read
 * (SyncProgress.expected); until then the line shows counts and the rate. Otherwise (a log file,
 * a pipe, LOG_FORMAT=json): no bar and no control characters, a JSON log line per phase change and
 * at most one per `logEveryMs` in between (logs stay readable for long runs).
 */
export interface ProgressReporter {
  update(p: SyncProgress): void;
  /** Ends the live line (a newline on a terminal). */
  finish(): void;
}

export interface ProgressLine {
  phase: string;
  /** Records of this phase so far. */
  done: number;
  /** The phase's record count, when the extraction announced it. */
  total: number | undefined;
  /** Time since this phase began (its own clock: the rate of one phase says nothing of the next). */
  phaseElapsedMs: number;
  /** Terminal columns: the line stays shorter, so it never wraps (a wrapped line cannot be redrawn). */
  width: number;
}

const BAR = 24;

/** One line of the bar, pure: `users [#######-----]  58% 5800/10000 1234/s ETA 0:00:03`. */
export function renderProgress(l: ProgressLine): string {
  const rate = l.done / Math.max(l.phaseElapsedMs / 1000, 0.001);
  let line: string;
  if (l.total === undefined || l.total <= 0) {
    line = `${l.phase} ${l.done} read, ${Math.round(rate)}/s, ${clock(l.phaseElapsedMs / 1000)}`;
  } else {
    const share = Math.min(l.done / l.total, 1);
    const filled = Math.floor(share * BAR);
    const eta =
      l.done === 0
        ? '--:--:--'
        : clock(Math.round(((l.phaseElapsedMs / l.done) * Math.max(l.total - l.done, 0)) / 1000));
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}]`;
    line = `${l.phase} ${bar} ${Math.floor(share * 100)}% ${l.done}/${l.total} ${Math.round(rate)}/s ETA ${eta}`;
  }
  return line.slice(0, Math.max(l.width - 1, 10));
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
}

/** Records of the phase `p` is in: the one count the phase's total is about. */
function doneIn(p: SyncProgress): number {
  return p.phase === 'logins' ? p.loginEventsRead : p.phase === 'users' ? p.usersExtracted : p.usersTombstoned;
}

export function createProgressReporter(opts: {
  stream: NodeJS.WriteStream;
  logger: Logger;
  now?: () => number;
  logEveryMs?: number;
  /** LOG_FORMAT=json: the output is for a machine, no bar even on a terminal. */
  env?: NodeJS.ProcessEnv;
}): ProgressReporter {
  const now = opts.now ?? Date.now;
  const started = now();
  const env = opts.env ?? process.env;
  const bar = opts.stream.isTTY === true && env.LOG_FORMAT !== 'json';
  let lastLog = 0;
  let lastPhase = '';
  let phaseStarted = started;
  let drawn = false;
  return {
    update(p) {
      if (p.phase !== lastPhase) phaseStarted = now();
      const phaseChanged = p.phase !== lastPhase;
      lastPhase = p.phase;
      const done = doneIn(p);
      if (bar) {
        const width = opts.stream.columns || 80;
        const line = renderProgress({
          phase: p.phase,
          done,
          total: p.expected,
          phaseElapsedMs: now() - phaseStarted,
          width,
        });
        opts.stream.write(`\r\x1b[2K${line}`);
        drawn = true;
        return;
      }
      if (phaseChanged || now() - lastLog >= (opts.logEveryMs ?? 10_000)) {
        lastLog = now();
        const elapsed = (now() - started) / 1000;
        const extracted = p.usersExtracted + p.loginEventsRead;
        opts.logger.info('run progress', {
          phase: p.phase,
          extracted,
          published: p.usersPublished + p.loginEventsPublished,
          tombstoned: p.usersTombstoned,
          deadLettered: p.deadLettered,
          recordsPerSecond: Math.round(extracted / Math.max(elapsed, 0.001)),
          elapsedSeconds: Math.round(elapsed),
          ...(p.expected !== undefined
            ? { expected: p.expected, percent: Math.floor(Math.min(done / Math.max(p.expected, 1), 1) * 100) }
            : {}),
        });
      }
    },
    finish() {
      if (bar && drawn) opts.stream.write('\n');
    },
  };
}
