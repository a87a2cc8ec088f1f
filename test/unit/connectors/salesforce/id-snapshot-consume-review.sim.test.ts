/**
 * Review of s10-routine (the Id snapshots read a batch at a time: Extraction.batches, consume()),
 * adversarially, against the simulator: the users' Id snapshot read by consume() with random page
 * sizes (1 row a page up to the whole set, a last page exactly full), random org changes before the
 * read, and a random fault: none, a page cut mid-body, a broken page (re-read, or failing past the
 * re-reads), a job Failed, results answering 503 past the retries, slow pages, or the run stopped
 * (RUN_INTERRUPTED) at a random moment or after a random number of rows. The promises:
 * - consume() resolves only with exactly the selection's Ids (each once): no present user missing
 *   (it would be removed), no missing one carried;
 * - otherwise it rejects (the extraction's error, or RUN_INTERRUPTED for a stop), and by then the
 *   read's query job is aborted and deleted (the simulator's open jobs);
 * - the extractor's API count is the org's (sim.apiUsage, + 1: the versions' call) for a complete read.
 * Replay with ID_SNAPSHOT_SEED=<n>.
 */
import type { UsersResult } from '../../../../connectors/salesforce';
import type { Simulator, SimFault, SimUserState } from '../../../../simulator/api';
import { consume } from '../../../../pipeline/drain';
import { mulberry32 } from '../../../../simulator/prng';
import { extractor, realNow, startSim } from './sim-helpers';
import { PAGE_TAMPERS, tamperPage, type PageTamper } from '../../../support/tamper-page';

type Scenario =
  | { kind: 'complete' }
  | { kind: 'fault'; fault: SimFault; fails: boolean }
  | { kind: 'stopTimer'; ms: number }
  | { kind: 'stopRows'; rows: number }
  // a results page of the snapshot tampered with on its way (its integrity checks must refuse it)
  | { kind: 'tamper'; page: number; how: PageTamper };

describe('s10-routine review: the Id snapshot read a batch at a time, against the simulator', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSim({ users: 300, logins: 0, now: realNow() });
  });
  afterAll(() => sim.close());

  it('resolves only with exactly the selection; a failed or stopped read rejects and leaves no job', async () => {
    const seed = process.env.ID_SNAPSHOT_SEED
      ? Number(process.env.ID_SNAPSHOT_SEED)
      : Math.floor(Math.random() * 2 ** 31);
    console.log(`id-snapshot-consume-review: seed ${seed} (replay with ID_SNAPSHOT_SEED=${seed})`);
    const random = mulberry32(seed);
    const int = (n: number) => Math.floor(random() * n);
    const problems: string[] = [];
    const tally = new Map<string, number>();
    const states: SimUserState[] = ['active', 'inactive', 'frozen'];
    const statuses: SimUserState[] = ['active', 'frozen'];

    for (let round = 0; round < Number(process.env.ID_SNAPSHOT_ROUNDS ?? 24); round++) {
      // org changes before the read: users gone, added, moved in and out of the selection
      for (let i = int(6); i > 0; i--) {
        const all = sim.userIds(states);
        const op = random();
        if (op < 0.3) sim.deleteUser(all[int(all.length)]);
        else if (op < 0.5) sim.addUser({ LastName: `New ${round}-${i}` });
        else sim.setUserState(all[int(all.length)], states[int(3)]);
      }
      const selected = sim.userIds(statuses);
      const n = selected.length;
      const sizes = [1, 2, 7, 50, n - 1, n, n + 1, 1 + int(n)];
      // a last page exactly full: a divisor of n
      const divisors = sizes.filter((s) => s > 0);
      for (let d = 2; d < 40; d++) if (n % d === 0) divisors.push(d);
      const pageSize = random() < 0.3 ? divisors[int(divisors.length)] : sizes[int(sizes.length)];
      const pick = int(10);
      const hows = PAGE_TAMPERS;
      const retries = 3;
      const scenario: Scenario =
        pick === 0
          ? { kind: 'complete' }
          : pick === 1
            ? { kind: 'fault', fault: { kind: 'resetMidPage', object: 'User', times: 1 + int(6) }, fails: false }
            : pick === 2
              ? (() => {
                  const times = 1 + int(6);
                  return { kind: 'fault', fault: { kind: 'malformedCsv', object: 'User', times }, fails: false };
                })()
              : pick === 3
                ? { kind: 'fault', fault: { kind: 'jobFails', object: 'User' }, fails: true }
                : pick === 4
                  ? {
                      kind: 'fault',
                      fault: { kind: 'serverError', status: 503, path: 'results', times: 1 + int(8) },
                      fails: false,
                    }
                  : pick === 5
                    ? {
                        kind: 'fault',
                        fault: { kind: 'slowPages', delayMs: 1 + int(20), times: 1 + int(5) },
                        fails: false,
                      }
                    : pick === 6
                      ? { kind: 'stopTimer', ms: int(400) }
                      : pick === 7
                        ? { kind: 'stopRows', rows: int(n + 1) }
                        : {
                            kind: 'tamper',
                            page: int(Math.min(5, Math.ceil(n / pageSize))),
                            how: hows[int(hows.length)],
                          };
      const where = `seed ${seed} round ${round} pageSize ${pageSize} (${n} selected) ${JSON.stringify(scenario)}`;
      let armed = false;
      let pages = 0;
      let tampered = false;
      const ex = extractor(
        sim,
        { userStatuses: statuses, pageSize, retryAttempts: retries },
        {
          fetch: async (url, init) => {
            const res = await fetch(url, init);
            if (!armed || scenario.kind !== 'tamper' || !/\/results(\?|$)/.test(url) || res.status !== 200) return res;
            if (pages++ !== scenario.page) return res;
            tampered = true;
            return tamperPage(res, scenario.how);
          },
        },
      );
      try {
        const usageBefore = sim.apiUsage; // the extractor counts from its start: connect and selection included
        const reads = await ex.userReads!();
        armed = true; // from here, the only results read are the Id snapshot's
        sim.clearFaults();
        if (scenario.kind === 'fault') sim.inject(scenario.fault);
        const stop = new AbortController();
        const timer = scenario.kind === 'stopTimer' ? setTimeout(() => stop.abort(), scenario.ms) : undefined;
        const seen: string[] = [];
        const ids = reads.ids();
        const outcome = await consume(
          ids,
          (row) => {
            seen.push(row.Id);
            if (scenario.kind === 'stopRows' && seen.length === scenario.rows) setImmediate(() => stop.abort());
          },
          stop.signal,
        ).then(
          (r: UsersResult) => ({ ok: true as const, r }),
          (e: unknown) => ({ ok: false as const, e: e as Error & { code?: string } }),
        );
        clearTimeout(timer);
        const what =
          scenario.kind === 'fault'
            ? scenario.fault.kind
            : scenario.kind === 'tamper'
              ? `tamper ${scenario.how}${tampered ? '' : ' (not reached)'}`
              : scenario.kind;
        const label = `${what} -> ${outcome.ok ? 'ok' : (outcome.e.code ?? outcome.e.message)}`;
        tally.set(label, (tally.get(label) ?? 0) + 1);
        const open = sim.openQueryJobs();
        if (outcome.ok) {
          const got = [...seen].sort();
          const dupes = got.filter((id, i) => i > 0 && got[i - 1] === id);
          if (dupes.length) problems.push(`${where}: ids seen twice ${dupes.slice(0, 3)}`);
          const present = new Set(seen);
          const missing = selected.filter((id) => !present.has(id));
          const extra = [...present].filter((id) => !selected.includes(id));
          if (missing.length) problems.push(`${where}: resolved without ${missing.length} present users`);
          if (extra.length) problems.push(`${where}: resolved with ${extra.length} users not selected`);
          if (outcome.r.rowsRead !== n) problems.push(`${where}: rowsRead ${outcome.r.rowsRead} of ${n}`);
          if (scenario.kind === 'fault' && scenario.fails) problems.push(`${where}: resolved despite the fault`);
          if (tampered) problems.push(`${where}: resolved with a tampered page`);
          const calls = outcome.r.apiCalls;
          const usage = sim.apiUsage - usageBefore;
          // + 1: GET /services/data (the versions, on connect) is not billed by the org, counted by the
          // extractor (conservative)
          if (calls !== usage + 1) problems.push(`${where}: counted ${calls} calls, the org ${usage}`);
        } else {
          const code = outcome.e.code ?? outcome.e.message;
          if (scenario.kind === 'complete' || (scenario.kind === 'fault' && scenario.fault.kind === 'slowPages'))
            problems.push(`${where}: rejected ${code}`);
          if ((scenario.kind === 'stopTimer' || scenario.kind === 'stopRows') && code !== 'RUN_INTERRUPTED')
            problems.push(`${where}: a stop rejected with ${code}`);
          if (code === 'EXTRACTION_CANCELLED') problems.push(`${where}: the failure's own error lost (${code})`);
        }
        if (open.length)
          problems.push(`${where}: ${open.length} job(s) left when consume() settled: ${JSON.stringify(open)}`);
        // the extraction settled too, and nothing left after close()
        await ids.done.catch(() => undefined);
      } finally {
        sim.clearFaults();
        await ex.close();
      }
      const left = sim.openQueryJobs();
      if (left.length) problems.push(`${where}: ${left.length} job(s) left after close()`);
    }
    console.log(`outcomes: ${JSON.stringify([...tally].sort())}`);
    expect(problems).toEqual([]);
  }, 300_000);
});
