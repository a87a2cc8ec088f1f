import { generateKeyPairSync } from 'node:crypto';
import type { ExtractorOptions } from '../../../../connectors/salesforce';
import { authWarnings, defaultJwtAudience } from '../../../../connectors/salesforce/auth';
import { parseExtractorConfig } from '../../../../connectors/salesforce/config';
import { FatalError } from '../../../../kernel/errors';
import type { Simulator } from '../../../../simulator/api';
import { drain, extractor, memoryLogger, passwordAuth, startSim } from './sim-helpers';

describe('authentication against the simulator', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSim({ users: 20 });
  });
  afterAll(() => sim.close());

  const flows = (s: Simulator): [string, ExtractorOptions['auth']][] => [
    ['password', passwordAuth(s)],
    [
      'client_credentials',
      {
        flow: 'client_credentials',
        consumerKey: s.credentials.consumerKey,
        consumerSecret: s.credentials.consumerSecret,
      },
    ],
    [
      'jwt',
      {
        flow: 'jwt',
        consumerKey: s.credentials.consumerKey,
        username: s.credentials.username,
        privateKeyPem: s.credentials.jwtPrivateKeyPem,
      },
    ],
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

  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();

  it.each<[string, (s: Simulator) => ExtractorOptions['auth']]>([
    ['a wrong password', (s) => ({ ...passwordAuth(s), password: 'Wrong-Password-123' }) as ExtractorOptions['auth']],
    [
      'a wrong security token',
      (s) => ({ ...passwordAuth(s), securityToken: 'WRONGTOKEN999' }) as ExtractorOptions['auth'],
    ],
    [
      'a wrong consumer secret (password flow)',
      (s) => ({ ...passwordAuth(s), consumerSecret: 'wrong-consumer-secret' }) as ExtractorOptions['auth'],
    ],
    [
      'a wrong consumer secret (client credentials)',
      (s) => ({
        flow: 'client_credentials',
        consumerKey: s.credentials.consumerKey,
        consumerSecret: 'wrong-consumer-secret',
      }),
    ],
    [
      'a JWT signed with another key',
      (s) => ({
        flow: 'jwt',
        consumerKey: s.credentials.consumerKey,
        username: s.credentials.username,
        privateKeyPem: otherKey,
      }),
    ],
    [
      'an unknown user (JWT)',
      (s) => ({
        flow: 'jwt',
        consumerKey: s.credentials.consumerKey,
        username: 'nobody@example.com',
        privateKeyPem: s.credentials.jwtPrivateKeyPem,
      }),
    ],
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
    expect(err!.message).toMatch(
      new RegExp(`Salesforce ${auth.flow} login at ${sim.url.replace(/[.:/]/g, '\\$&')} was rejected: \\w+`),
    );
    const secrets = [
      sim.credentials.password,
      sim.credentials.consumerSecret,
      sim.credentials.securityToken,
      'Wrong-Password-123',
      'WRONGTOKEN999',
      'wrong-consumer-secret',
      'PRIVATE KEY',
    ];
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

describe('JWT audience', () => {
  it('defaults to login.salesforce.com, or test.salesforce.com for a sandbox, whatever the login URL', () => {
    // randomized My Domain names; replay with SEED=<n>
    const seed = Number(process.env.SEED ?? Date.now() % 100000);
    let x = seed;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    const name = () =>
      Array.from(
        { length: 3 + Math.floor(rnd() * 12) },
        () => 'abcdefghijklmnopqrstuvwxyz0123456789-'[Math.floor(rnd() * 37)],
      )
        .join('')
        .replace(/^-|-$/g, 'a');
    for (let i = 0; i < 50; i++) {
      const n = name();
      const ctx = `seed ${seed}, name ${n}`;
      expect([ctx, defaultJwtAudience(`https://${n}.my.salesforce.com`)]).toEqual([
        ctx,
        'https://login.salesforce.com',
      ]);
      expect([ctx, defaultJwtAudience(`https://${n}--uat.sandbox.my.salesforce.com`)]).toEqual([
        ctx,
        'https://test.salesforce.com',
      ]);
      expect([ctx, defaultJwtAudience(`https://${n.toUpperCase()}--DEV.SANDBOX.MY.SALESFORCE.COM`)]).toEqual([
        ctx,
        'https://test.salesforce.com',
      ]);
    }
    expect(defaultJwtAudience('https://login.salesforce.com')).toBe('https://login.salesforce.com');
    expect(defaultJwtAudience('https://test.salesforce.com')).toBe('https://test.salesforce.com');
    expect(defaultJwtAudience('http://127.0.0.1:4000')).toBe('https://login.salesforce.com');
  });

  it('jwtAudience overrides the default: a sandbox org with an Experience Cloud site audience', async () => {
    const site = 'https://acme.my.site.com/partners';
    const sandbox = await startSim({ users: 5, logins: 0, sandbox: true, jwtSiteUrls: [site] });
    try {
      const c = sandbox.credentials;
      const jwt = (audience?: string): ExtractorOptions['auth'] => ({
        flow: 'jwt',
        consumerKey: c.consumerKey,
        username: c.username,
        privateKeyPem: c.jwtPrivateKeyPem,
        ...(audience ? { audience } : {}),
      });
      // the default (login.salesforce.com: the loopback URL is not a sandbox host) is refused by a sandbox
      await expect(extractor(sandbox, { auth: jwt() }).connect()).rejects.toMatchObject({
        code: 'SALESFORCE_AUTH_FAILED',
      });
      for (const aud of ['https://test.salesforce.com', site]) {
        const got = await drain(extractor(sandbox, { auth: jwt(aud) }).users());
        expect(got.error).toBeUndefined();
        expect(got.rows.map((r) => r.Id).sort()).toEqual(sandbox.userIds());
      }
    } finally {
      await sandbox.close();
    }
  });

  it('refuses a My Domain URL as jwtAudience at validation, naming the option and the fix', () => {
    const auth = {
      flow: 'jwt',
      consumerKey: 'k',
      username: 'u',
      privateKeyPem: '-----BEGIN PRIVATE KEY-----',
      audience: 'https://acme.my.salesforce.com',
    } as const;
    expect(() => parseExtractorConfig({ loginUrl: 'https://acme.my.salesforce.com', auth })).toThrow(
      /salesforce\.auth\.audience: .*My Domain.*leave jwtAudience out/,
    );
  });

  it('warns at start-up on the password flow, naming the retirement date and the replacement', () => {
    const [w] = authWarnings({ flow: 'password', consumerKey: 'k', consumerSecret: 's', username: 'u', password: 'p' });
    expect(w).toContain('2027-02-20');
    expect(w).toContain('oauthFlow: jwt');
    expect(authWarnings({ flow: 'client_credentials', consumerKey: 'k', consumerSecret: 's' })).toEqual([]);
  });

  it('the extractor logs that warning once when built with the password flow', async () => {
    const sim = await startSim({ users: 1, logins: 0 });
    try {
      const { logger, lines } = memoryLogger();
      extractor(sim, {}, { logger });
      expect(lines.filter((l) => l.level === 'warn' && l.msg.includes('2027-02-20'))).toHaveLength(1);
    } finally {
      await sim.close();
    }
  });
});
