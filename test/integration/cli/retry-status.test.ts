import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connector } from '../../../pipeline/connector';
import type { Simulator } from '../../../simulator/api';
import { services } from '../../support/services';
import { connectorFor, settingsFor, startOrg } from '../../support/sync-harness';
import { runCli } from './cli-process';

/**
 * A failed scheduled run is visible in `status` with its retry: the run records its slot and
 * attempt in the state topic, and `status` computes the retry the service will start (the same
 * pure plan the scheduler uses: pipeline/schedule/retry.ts).
 */
jest.setTimeout(120_000);

let sim: Simulator;
let connector: Connector;
afterAll(async () => {
  await connector?.close();
  await sim?.close();
});

it("status shows a failed scheduled run's attempt and the planned retry within its slot", async () => {
  sim = await startOrg({ users: 20, logins: 10 });
  const settings = settingsFor(sim);
  connector = await connectorFor(settings);
  // the slot started an hour ago (the schedule below is daily at that minute): the next slot is 23 h away
  const slot = Math.floor((Date.now() - 3600_000) / 60_000) * 60_000;
  const hhmm = new Date(slot).toISOString().slice(11, 16);
  sim.inject({ kind: 'loginFails', times: 20 });
  const failed = await connector.sync({ scheduled: { slot, attempt: 1 } });
  expect(failed.status).toBe('failed');

  const dir = mkdtempSync(join(tmpdir(), 'retry-status-'));
  const file = join(dir, 'c.yaml');
  const c = sim.credentials;
  writeFileSync(
    file,
    [
      `connectorName: ${settings.connectorName}`,
      `salesforceUrl: ${sim.url}`,
      `consumerKey: ${c.consumerKey}`,
      `consumerSecret: "${c.consumerSecret}"`,
      `username: ${c.username}`,
      `password: "${c.password}"`,
      'repeats: daily',
      `startTime: "${hhmm}"`,
      'timeZone: UTC',
      'runRetries: { retries: 2, initialDelayMinutes: 5, maxDelayMinutes: 30 }',
      `kafka: { brokers: ["${services().KAFKA_BROKERS}"] }`,
      `registry: { url: "${services().SCHEMA_REGISTRY_URL}" }`,
      `topics: { users: ${settings.topics.users}, loginHistory: ${settings.topics.logins}, ` +
        `state: ${settings.topics.state}, deadLetter: ${settings.topics.deadLetter} }`,
    ].join('\n'),
    { mode: 0o600 },
  );
  const r = await runCli(['status', '-c', file, '--json'], {});
  expect(r.code).toBe(0);
  const view = JSON.parse(r.stdout);
  const endedAt = Date.parse(view.lastRun.endedAt);
  expect(view.lastRun).toMatchObject({ status: 'failed', attempt: 1, scheduledFor: new Date(slot).toISOString() });
  expect(view.retry).toEqual({
    attempt: 2,
    at: new Date(endedAt + 5 * 60_000).toISOString(),
    slot: new Date(slot).toISOString(),
  });
  expect(view.nextRun).toBe(view.retry.at);
  const text = await runCli(['status', '-c', file], {});
  expect(text.stdout).toMatch(/next run .* \(retry: attempt 2 of the slot .*, after the last run failed\)/);
});
