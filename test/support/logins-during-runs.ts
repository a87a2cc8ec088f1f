import type { Connector } from '../../pipeline/connector';
import type { Simulator } from '../../simulator/api';
import { allRecords } from './sync-harness';
import type { seededRandom } from './sync-oracle';

/**
 * Login events that Salesforce shows while runs read LoginHistory: a timed run, then four runs during
 * each of which five bursts of 1-3 events (of active users) arrive at random moments within one run's
 * duration, then a last run. Every event added is in the logins topic exactly once, and nothing else
 * was added. `connector` has made its first run already.
 */
export async function expectLoginsDuringRunsPublishedOnce(
  connector: Connector,
  sim: Simulator,
  loginsTopic: string,
  rnd: ReturnType<typeof seededRandom>,
): Promise<void> {
  const keys = async () => (await allRecords(loginsTopic)).map((r) => r.key);
  const t0 = Date.now();
  expect(await connector.sync()).toMatchObject({ status: 'succeeded' });
  const took = Math.max(200, Date.now() - t0);
  const start = await keys();
  const added: string[] = [];
  for (let round = 1; round <= 4; round++) {
    const timers = Array.from({ length: 5 }, () =>
      setTimeout(
        () =>
          added.push(...sim.addLogins(1 + Math.floor(rnd.next() * 3), { userId: rnd.pick(sim.userIds(['active'])) })),
        Math.floor(rnd.next() * took),
      ),
    );
    expect(await connector.sync()).toMatchObject({ status: 'succeeded' });
    timers.forEach(clearTimeout);
  }
  expect(await connector.sync()).toMatchObject({ status: 'succeeded' });
  const end = await keys();
  const counts = new Map<string, number>();
  for (const k of end) counts.set(k, (counts.get(k) ?? 0) + 1);
  const dupes = [...counts].filter(([, n]) => n > 1).map(([k]) => k);
  const missing = added.filter((id) => !counts.has(id));
  expect({ added: added.length, dupes, missing }).toEqual({ added: added.length, dupes: [], missing: [] });
  expect(end.length).toBe(start.length + added.length);
}
