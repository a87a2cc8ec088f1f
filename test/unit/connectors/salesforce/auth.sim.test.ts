import { generateKeyPairSync } from 'node:crypto';
import type { ExtractorOptions } from '../../../../connectors/salesforce';
import { FatalError } from '../../../../pipeline/core/errors';
import type { Simulator } from '../../../simulator/api';
import { drain, extractor, memoryLogger, passwordAuth, startSim } from './sim-helpers';

describe('authentication against the simulator', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSim({ users: 20 });
  });
  afterAll(() => sim.close());

  const flows = (s: Simulator): [string, ExtractorOptions['auth']][] => [
    ['password', passwordAuth(s)],
    ['client_credentials', { flow: 'client_credentials', consumerKey: s.credentials.consumerKey, consumerSecret: s.credentials.consumerSecret }],
    ['jwt', { flow: 'jwt', consumerKey: s.credentials.consumerKey, username: s.credentials.username, privateKeyPem: s.credentials.jwtPrivateKeyPem }],
  ];

  it.each(['password', 'client_credentials', 'jwt'])('the %s flow logs in and extracts', async (name) => {
    const auth = flows(sim).find(([n]) => n === name)![1];
    const ex = extractor(sim, { auth });
    const info = await ex.connect();
    expect(info.instanceUrl).toBe(sim.url);
    const got = await drain(ex.users());
    expect(got.error).toBeUndefined();
    expect(got.rows.length).toBe(sim.userIds().length);
  });

  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it.each<[string, (s: Simulator) => ExtractorOptions['auth']]>([
    ['a wrong password', (s) => ({ ...passwordAuth(s), password: 'Wrong-Password-123' } as ExtractorOptions['auth'])],
    ['a wrong security token', (s) => ({ ...passwordAuth(s), securityToken: 'WRONGTOKEN999' } as ExtractorOptions['auth'])],
    ['a wrong consumer secret (password flow)', (s) => ({ ...passwordAuth(s), consumerSecret: 'wrong-consumer-secret' } as ExtractorOptions['auth'])],
    ['a wrong consumer secret (client credentials)', (s) => ({ flow: 'client_credentials', consumerKey: s.credentials.consumerKey, consumerSecret: 'wrong-consumer-secret' })],
    ['a JWT signed with another key', (s) => ({ flow: 'jwt', consumerKey: s.credentials.consumerKey, username: s.credentials.username, privateKeyPem: otherKey })],
    ['an unknown user (JWT)', (s) => ({ flow: 'jwt', consumerKey: s.credentials.consumerKey, username: 'nobody@example.com', privateKeyPem: s.credentials.jwtPrivateKeyPem })],
  ])('%s gives a clear error without any secret in it', async (_name, make) => {
    const auth = make(sim);
    const { logger, lines } = memoryLogger();
    const ex = extractor(sim, { auth }, { logger });
    const err = await ex.connect().then(
      () => null,
      (e: unknown) => e as FatalError,
    );
    expect(err).toBeInstanceOf(FatalError);
    expect(err!.code).toBe('SALESFORCE_AUTH_FAILED');
    expect(err!.message).toMatch(new RegExp(`Salesforce ${auth.flow} login at ${sim.url.replace(/[.:/]/g, '\\$&')} was rejected: \\w+`));
    const secrets = [sim.credentials.password, sim.credentials.consumerSecret, sim.credentials.securityToken, 'Wrong-Password-123', 'WRONGTOKEN999', 'wrong-consumer-secret', 'PRIVATE KEY'];
    const logged = JSON.stringify(lines);
    for (const s of secrets) {
      expect(err!.message).not.toContain(s);
      expect(String(err!.stack)).not.toContain(s);
      expect(logged).not.toContain(s);
    }
    // the rows stream carries the same error
    const got = await drain(ex.users());
    expect(got.error?.code).toBe('SALESFORCE_AUTH_FAILED');
  });
});
