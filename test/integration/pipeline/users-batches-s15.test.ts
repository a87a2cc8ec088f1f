import type { Simulator } from '../../../simulator/api';
import type { Connector, ConnectorSettings } from '../../../pipeline/connector';
import type { Extraction, SalesforceExtractor, UserReads } from '../../../connectors/salesforce';
import { createExtractor } from '../../../connectors/salesforce';
import { silentLogger } from '../../../kernel/logger';
import { connectorFor, latestUsers, settingsFor, startOrg } from '../../support/sync-harness';
import { seededRandom } from '../../support/sync-oracle';

/**
 * The users' phases and the declared streams read their rows a page at a time (`Extraction.batches()`,
 * pipeline/drain.ts drainBatches), as the login events do since session 14, not a highland value a row
 * (docs/performance-s15-conn.md). Seen from the run: every users extraction it publishes from (the
 * full read; a routine run's changed rows and rows by Id) and every stream's is read through `batches()`. And the users
 * topic holds exactly the org's users, with each change published once and nobody else. Random org
 * size, page size and batch size (SYNC_SEED replays).
 */
let sim: Simulator;
let settings: ConnectorSettings;
let connector: Connector;
afterEach(async () => {
  await connector?.close();
  await sim?.close();
});

type Read = { name: string; batches: number };

/** The product's extractor, each users extraction watched for `batches()` calls. */
function watchedConnector(s: ConnectorSettings, reads: Read[]): Promise<Connector> {
  const watch = <R>(name: string, ex: Extraction<R>): Extraction<R> => {
    const read: Read = { name, batches: 0 };
    reads.push(read);
    const batches = ex.batches.bind(ex);
    ex.batches = () => {
      read.batches++;
      return batches();
    };
    return ex;
  };
  return connectorFor(s, {
    extractor: (cfg) => {
      const extractor: SalesforceExtractor = createExtractor(cfg.salesforce, { logger: silentLogger });
      const users = extractor.users.bind(extractor);
      extractor.users = () => watch('users', users());
      const stream = extractor.stream!.bind(extractor);
      extractor.stream = (req) => watch(`stream ${req.object}`, stream(req));
      const userReads = extractor.userReads!.bind(extractor);
      extractor.userReads = async (signal?: AbortSignal) => {
        const r: UserReads = await userReads(signal);
        const changedSince = r.changedSince.bind(r);
        const byIds = r.byIds.bind(r);
        r.changedSince = (since) => watch('changed', changedSince(since));
        r.byIds = (ids) => watch('byIds', byIds(ids));
        return r;
      };
      return extractor;
    },
  });
}

it('reads every users and stream extraction a page at a time, and publishes each change once', async () => {
  const rnd = seededRandom('users-batches-s15');
  sim = await startOrg({ users: 80 + Math.floor(rnd.next() * 200), logins: 400 });
  settings = settingsFor(sim);
  settings.salesforce.pageSize = 20 + Math.floor(rnd.next() * 150);
  settings.publisher = { ...settings.publisher, batchSize: 1 + Math.floor(rnd.next() * 120) };
  const reads: Read[] = [];
  connector = await watchedConnector(settings, reads);

  const first = await connector.sync();
  expect(first).toMatchObject({ status: 'succeeded', usersPublished: sim.userIds().length });
  expect(reads.filter((r) => !r.name.startsWith('stream'))).toEqual([{ name: 'users', batches: 1 }]);
  // the declared streams (licences, permission sets, …) read theirs a page at a time too
  expect(reads.filter((r) => r.name.startsWith('stream')).length).toBeGreaterThan(0);
  for (const r of reads) expect(r).toEqual({ name: r.name, batches: 1 });

  // a routine run: an incremental read (changed rows; rows by Id for the users whose flags changed)
  reads.length = 0;
  const changed = rnd.sample(sim.userIds(), 1 + Math.floor(rnd.next() * 10));
  for (const id of changed) sim.updateUser(id, { Title: `S15 ${id}` });
  const second = await connector.sync();
  expect(second).toMatchObject({ status: 'succeeded', usersPublished: changed.length });
  expect(reads.length).toBeGreaterThan(0);

  for (const r of reads) expect(r).toEqual({ name: r.name, batches: 1 });
  const latest = await latestUsers(settings.topics.users, connector.codecs.users);
  expect([...latest.keys()].sort()).toEqual(sim.userIds().sort());
  for (const id of changed) expect(latest.get(id)).toMatchObject({ title: `S15 ${id}` });
});
