import type { Logger } from '../../kernel/logger';
import type { SyncProgress } from '../sync';

/**
 * Shows a run's progress. On a terminal: one line, rewritten in place, with records extracted
 * and published, the rate and the elapsed time. Otherwise: a JSON log line per phase change and
 * at most one per `logEveryMs` in between (logs stay readable for long runs).
 */
export interface ProgressReporter {
  update(p: SyncProgress): void;
  /** Ends the live line (a newline on a terminal). */
  finish(): void;
}

export function createProgressReporter(opts: { stream: NodeJS.WriteStream; logger: Logger; now?: () => number; logEveryMs?: number }): ProgressReporter {
  const now = opts.now ?? Date.now;
  const started = now();
  const tty = opts.stream.isTTY === true;
  let lastLog = 0;
  let lastPhase = '';
  let drawn = false;
  return {
    update(p) {
      const elapsed = (now() - started) / 1000;
      const extracted = p.usersExtracted + p.loginEventsRead;
      const publishedCount = p.usersPublished + p.loginEventsPublished;
      const rate = Math.round(extracted / Math.max(elapsed, 0.001));
      if (tty) {
        opts.stream.write(`\r\x1b[2K${p.phase}: ${extracted} extracted, ${publishedCount} published, ${p.usersTombstoned} deleted, ${rate}/s, ${formatElapsed(elapsed)}`);
        drawn = true;
        return;
      }
      if (p.phase !== lastPhase || now() - lastLog >= (opts.logEveryMs ?? 10_000)) {
        lastPhase = p.phase;
        lastLog = now();
        opts.logger.info('run progress', { phase: p.phase, extracted, published: publishedCount, tombstoned: p.usersTombstoned, deadLettered: p.deadLettered, recordsPerSecond: rate, elapsedSeconds: Math.round(elapsed) });
      }
    },
    finish() {
      if (tty && drawn) opts.stream.write('\n');
    },
  };
}

function formatElapsed(s: number): string {
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`;
}
