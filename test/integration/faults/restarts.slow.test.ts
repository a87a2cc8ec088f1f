import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../../../kernel/logger';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../../sinks';
import { DedicatedKafka } from '../../support/dedicated-kafka';
import { baselineThenChanges, expectConsistent, faultRig, type FaultRig } from '../../support/fault-harness';
import { waitFor } from '../../support/wait';

/**
 * Servers restarted under the pipeline, end to end: PostgreSQL of this test's own restarted while
 * the sink streams, and a Kafka broker of this test's own restarted while the connector produces.
 * The shared servers are never touched. Afterwards: tables equal the org, no login event twice,
 * no spurious deletion.
 */
let rig: FaultRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('PostgreSQL restarted mid-stream', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-pg-'));
  let db: EmbeddedPostgres | undefined;
  afterAll(async () => {
    await db?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('the sink waits out the outage and ends consistent', async () => {
    fs.chmodSync(root, 0o755);
    const dataDir = path.join(root, 'pg');
    db = await startEmbeddedPostgres({ dataDir });
    const port = db.port;
    rig = await faultRig({ databaseUrl: db.url });
    const c = await rig.connector();
    const logLines: string[] = [];
    expect((await c.sync()).status).toBe('succeeded');
    await rig.startSink(createLogger({ level: 'warn', write: (line) => logLines.push(line) }));
    const r = rig;
    await waitFor(
      'the sink to write rows',
      30_000,
      async () => Number((await r.pool.query(`SELECT count(*) AS n FROM "${r.tables.users}"`)).rows[0].n) > 0,
    );

    await db.stop(); // the sink's sessions end mid-stream
    // the org changes and the connector publishes while the database is down
    rig.sim.deleteUser(rig.sim.userIds(rig.statuses)[20]);
    rig.sim.updateUser(rig.sim.userIds(rig.statuses)[30], { City: 'Zürich' });
    // An imported user's: only theirs are published.
    rig.sim.addLogins(40, { userId: rig.sim.userIds(rig.statuses)[0] });
    expect(await c.sync()).toMatchObject({ status: 'succeeded', usersTombstoned: 1, loginEventsPublished: 40 });
    await waitFor('the sink to retry a write', 30_000, async () => logLines.some((l) => l.includes('retrying')));
    db = await startEmbeddedPostgres({ dataDir, port });
    await expectConsistent(rig, 90_000);
  });
});

describe('the Kafka broker restarted during production', () => {
  const kafka = new DedicatedKafka();
  afterAll(() => kafka.remove());

  it('a run interrupted by the restart deletes nothing; the pipeline ends consistent', async () => {
    await kafka.start();
    rig = await faultRig({ brokers: kafka.brokers });
    const c = await rig.connector();
    await baselineThenChanges(rig);
    await rig.startSink();

    // slow pages keep the run producing while the broker goes away and comes back
    rig.sim.inject({ kind: 'slowPages', delayMs: 1000, times: 1000 });
    const seen = rig.sim.requests.length;
    const running = c.sync();
    let settled = false;
    void running.finally(() => (settled = true));
    const r = rig;
    await waitFor(
      'the run to read result pages',
      30_000,
      async () => r.sim.requests.slice(seen).filter((q) => q.path.includes('/results')).length >= 2,
    );
    await kafka.stop();
    expect(settled).toBe(false); // the broker went away in the middle of the run
    await kafka.start();
    const during = await running;
    rig.sim.clearFaults();
    if (during.status !== 'succeeded') {
      expect(during.usersTombstoned).toBe(0);
      expect((await c.sync()).status).toBe('succeeded');
    }
    await expectConsistent(rig, 120_000);
  });
});
