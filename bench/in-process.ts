import { createExtractor } from '../connectors/salesforce';
import { silentLogger } from '../kernel/logger';
import { sleep } from '../kernel/retry';
import { passwordAuth, startSimulator } from '../simulator';

/** The fixed clock of the in-process benches: the same rows on every run. */
export const BENCH_NOW = '2026-11-01T00:00:00.000Z';

/**
 * A simulator in this process, an extractor connected to it at the fixed clock, and the record
 * context the stages need: what the hot-path benches (record size, hot path) measure on.
 */
export async function inProcessExtraction(users: number, logins: number) {
  const sim = await startSimulator({ users, logins, now: BENCH_NOW });
  const ex = createExtractor(
    { loginUrl: sim.url, auth: passwordAuth(sim.credentials), loginLookbackDays: 400, apiBudgetShare: 1 },
    { logger: silentLogger, clock: { now: () => Date.parse(BENCH_NOW), sleep } },
  );
  const info = await ex.connect();
  const ctx = {
    instanceUrl: info.instanceUrl,
    orgId: info.orgId,
    connectorName: 'bench',
    runId: 'bench-run-0000000000000000000000000',
    extractedAt: Date.parse(BENCH_NOW),
  };
  return {
    ex,
    ctx,
    async close() {
      await ex.close();
      await sim.close();
    },
  };
}
