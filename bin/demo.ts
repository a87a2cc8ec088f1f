/**
 * The main job on a fresh machine, without Docker: `npm run demo`.
 *
 *  1. starts local Kafka, Apicurio Registry and PostgreSQL with the scripts the tests use (or
 *     reuses them when they already run);
 *  2. starts the Salesforce API simulator with 10,000 users and 50,000 login events;
 *  3. writes a connector config file, loads it the way `connector start` does, runs one sync
 *     and the sink, and prints the run summary and a few rows of the users table;
 *  4. shows the deletion rule: deactivates a user in the simulator, runs again, and shows that
 *     the tombstone removed the row;
 *  5. stops everything it started, unless --keep is given.
 *
 * Options: --users N, --logins N, --keep (leave the services and the simulator running).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { startSimulator } from '../simulator';
import { VERSIONS } from '../devstack/env';
import { ensureServices, stopServices } from '../devstack/services';
import { loadConfigFile, toConnectorSettings, toSinkConfig } from '../pipeline/config';
import { startConnector } from '../pipeline/connector';
import { createLogger } from '../kernel/logger';
import type { RunSummary } from '../pipeline/sync';
import { fromConfig } from '../sinks';
import { GENERIC_STREAMS } from '../schemas/streams/generic';

const say = (line = '') => process.stdout.write(line + '\n');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '10000' },
      logins: { type: 'string', default: '50000' },
      keep: { type: 'boolean', default: false },
    },
  });
  const users = Number(values.users);
  const logins = Number(values.logins);
  const logger = createLogger({ level: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'warn' });

  say(
    `1/5  Starting Kafka ${VERSIONS.kafka}, Apicurio Registry ${VERSIONS.apicurio} and PostgreSQL on loopback ` +
      '(first time: downloads into ~/.cache)…',
  );
  const services = await ensureServices((line) => say(`     ${line}`));
  const counts = `${users.toLocaleString('en-US')} users, ${logins.toLocaleString('en-US')} login events`;
  say(`2/5  Starting the Salesforce API simulator: ${counts}…`);
  const sim = await startSimulator({
    users,
    logins,
    now: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(),
  });
  say(`     simulated org at ${sim.url}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'connector-demo-'));
  const name = `demo-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
  const configFile = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(configFile, demoConfig(name, sim.url, services.endpoints, dir));
  // The JWT bearer flow, as a real org should use (the password flow is retired on 2027-02-20).
  const env = {
    ...process.env,
    DEMO_PRIVATE_KEY: sim.credentials.jwtPrivateKeyPem,
    DEMO_CONSUMER_KEY: sim.credentials.consumerKey,
    DEMO_USERNAME: sim.credentials.username,
  };
  const config = loadConfigFile(configFile, { env, readFile: (p) => fs.readFileSync(p, 'utf8') });
  const settings = toConnectorSettings(config);
  const sinkConfig = toSinkConfig(config);

  const connector = await startConnector(settings, { logger });
  const sink = fromConfig(sinkConfig, { logger });
  const db = new Client({ connectionString: services.endpoints.DATABASE_URL });
  await db.connect();
  const table = sinkConfig.tables!.users!;
  try {
    say(`3/5  Running a sync (config ${configFile}), then the sink into PostgreSQL table ${table}…`);
    const first = await connector.sync();
    printSummary(first);
    if (first.status !== 'succeeded') throw new Error(`the sync failed: ${first.error?.message}`);
    await sink.start();
    const expected = sim.userIds(['active', 'frozen']).length;
    await until(
      async () => Number((await db.query(`SELECT count(*) FROM ${table}`)).rows[0].count) === expected,
      'the sink to write every user',
    );
    const sample = await db.query(
      `SELECT id, name, username, title, status, city, device_browser FROM ${table} ORDER BY name LIMIT 5`,
    );
    say(
      `     ${expected} users in ${table}: as expected, every active or frozen user of the simulated org; a few rows:`,
    );
    console.table(sample.rows);

    const victim = sim.userIds(['active'])[0];
    const who = (await db.query(`SELECT name, username FROM ${table} WHERE id = $1`, [victim])).rows[0];
    say(`4/5  Deactivating ${who.name} <${who.username}> (${victim}) in Salesforce, and running again…`);
    sim.setUserState(victim, 'inactive');
    const second = await connector.sync();
    printSummary(second);
    await until(
      async () => (await db.query(`SELECT 1 FROM ${table} WHERE id = $1`, [victim])).rowCount === 0,
      'the tombstone to delete the row',
    );
    const remain = Number((await db.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
    if (remain !== expected - 1) throw new Error(`expected ${expected - 1} users after the deletion, found ${remain}`);
    say(`     the tombstone removed ${victim} from ${table}: ${remain} users remain (${expected} - 1, as expected).`);
  } finally {
    say(
      values.keep
        ? '5/5  Done. --keep: the services and the simulator keep running ' +
            '(stop the services with npm run services:stop).'
        : '5/5  Done. Stopping what the demo started…',
    );
    await sink.stop();
    await connector.close();
    await db.end();
    if (!values.keep) {
      await sim.close();
      await stopServices(services.started);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

function demoConfig(
  name: string,
  simUrl: string,
  endpoints: { KAFKA_BROKERS: string; SCHEMA_REGISTRY_URL: string; DATABASE_URL: string },
  dir: string,
): string {
  return [
    `connectorName: ${name}`,
    'connectorServerName: Cloud',
    `salesforceUrl: ${simUrl}`,
    'oauthFlow: jwt',
    'consumerKey: ${env:DEMO_CONSUMER_KEY}',
    'username: ${env:DEMO_USERNAME}',
    'privateKeyEnv: DEMO_PRIVATE_KEY',
    'userStatus: [active, frozen]',
    'repeats: daily',
    'startTime: "02:00"',
    'active: true',
    'kafka:',
    `  brokers: [${endpoints.KAFKA_BROKERS}]`,
    'registry:',
    `  url: ${endpoints.SCHEMA_REGISTRY_URL}`,
    'topics:',
    `  users: ${name}.users`,
    `  loginHistory: ${name}.login-history`,
    `  state: ${name}.connector-state`,
    `  deadLetter: ${name}.dead-letter`,
    // the declared streams (licences) get topics of this demo's own too, like the four above
    '  streams:',
    ...GENERIC_STREAMS.map((d) => `    ${d.name}: ${name}.${d.name}`),
    'database:',
    `  url: ${endpoints.DATABASE_URL}`,
    'sink:',
    `  groupId: ${name}-sink`,
    `  usersTable: ${name.replace(/-/g, '_')}_users`,
    `  loginHistoryTable: ${name.replace(/-/g, '_')}_login_events`,
    `# written by npm run demo into ${dir}`,
    '',
  ].join('\n');
}

function printSummary(s: RunSummary): void {
  const api = s.apiUsage ? `${s.apiUsage.used}/${s.apiUsage.max}` : 'n/a';
  say(`     run ${s.runId}: ${s.status} in ${(s.durationMs / 1000).toFixed(1)} s, ${s.recordsPerSecond} records/s`);
  say(
    `       users: ${s.usersExtracted} extracted, ${s.usersPublished} published, ` +
      `${s.usersUnchanged} unchanged, ${s.usersTombstoned} tombstoned`,
  );
  say(
    `       login events: ${s.loginEventsPublished} published, ${s.loginDuplicatesDropped} duplicates dropped; ` +
      `dead letters: ${s.deadLettered}; Salesforce API usage ${api}`,
  );
  if (s.error) say(`       error: ${s.error.code}: ${s.error.message}`);
}

async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

main().catch((err: Error) => {
  process.stderr.write(`demo failed: ${err.message}\n`);
  process.exit(1);
});
