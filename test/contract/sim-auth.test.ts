/**
 * Contract: the simulator's OAuth flows and session handling behave like Salesforce's, as
 * jsforce 3.10.16 and raw HTTP see them.
 */
import { createSign } from 'node:crypto';
import { Connection } from 'jsforce';
import { startSimulator } from '../../simulator';
import { Simulator } from '../../simulator/api';
import { Api, passwordLogin, tokenRequest, V } from './sim-client';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ users: 30, logins: 50 });
});
afterAll(() => sim.close());

function jwt(claims: Record<string, unknown>, key = sim.credentials.jwtPrivateKeyPem): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${enc({ alg: 'RS256' })}.${enc(claims)}`;
  const sig = createSign('RSA-SHA256').update(head).sign(key).toString('base64url');
  return `${head}.${sig}`;
}

const jwtClaims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: sim.credentials.consumerKey,
  sub: sim.credentials.username,
  aud: 'https://login.salesforce.com',
  exp: Math.floor(Date.now() / 1000) + 180,
  ...over,
});

describe('jsforce 3.10.16 against the simulator', () => {
  it('logs in with the username-password flow and describes User', async () => {
    const c = sim.credentials;
    const conn = new Connection({
      oauth2: { clientId: c.consumerKey, clientSecret: c.consumerSecret, loginUrl: sim.url },
      loginUrl: sim.url,
      version: '62.0',
    });
    const info = await conn.login(c.username, c.password + c.securityToken);
    expect(info.organizationId).toBe(sim.orgId);
    expect(conn.instanceUrl).toBe(sim.url);
    const d = await conn.sobject('User').describe();
    const names = d.fields.map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining(['Id', 'Username', 'UserRoleId', 'Street', 'Address', 'FederationIdentifier', 'AboutMe']),
    );
    expect(d.fields.find((f) => f.name === 'Address')?.type).toBe('address');
    expect(d.fields.find((f) => f.name === 'Street')?.compoundFieldName).toBe('Address');
    expect(d.fields.find((f) => f.name === 'UserRoleId')).toMatchObject({
      type: 'reference',
      referenceTo: ['UserRole'],
      relationshipName: 'UserRole',
    });
    expect(names.filter((n) => n.startsWith('UserPreferences')).length).toBeGreaterThanOrEqual(74);
    expect(names.filter((n) => n.startsWith('UserPermissions')).length).toBeGreaterThanOrEqual(12);
  });

  it('authorizes with the client credentials flow', async () => {
    const c = sim.credentials;
    const conn = new Connection({
      oauth2: { clientId: c.consumerKey, clientSecret: c.consumerSecret, loginUrl: sim.url },
      version: '62.0',
    });
    const info = await conn.authorize({ grant_type: 'client_credentials' });
    expect(info.organizationId).toBe(sim.orgId);
    const d = await conn.sobject('LoginHistory').describe();
    expect(d.fields.map((f) => f.name)).toEqual(
      expect.arrayContaining(['LoginTime', 'UserId', 'Status', 'CountryIso']),
    );
  });

  it('refuses a wrong password with invalid_grant', async () => {
    const c = sim.credentials;
    const conn = new Connection({
      oauth2: { clientId: c.consumerKey, clientSecret: c.consumerSecret, loginUrl: sim.url },
      version: '62.0',
    });
    await expect(conn.login(c.username, 'wrong' + c.securityToken)).rejects.toMatchObject({
      name: 'invalid_grant',
      message: 'authentication failure',
    });
  });
});

describe('token endpoint errors', () => {
  const c = () => sim.credentials;
  it.each([
    ['unknown client', () => ({ client_id: 'nope' }), 'invalid_client_id', 'client identifier invalid'],
    ['bad secret', () => ({ client_secret: 'nope' }), 'invalid_client', 'invalid client credentials'],
    ['password without token', () => ({ password: c().password }), 'invalid_grant', 'authentication failure'],
    ['unknown user', () => ({ username: 'who@example.com' }), 'invalid_grant', 'authentication failure'],
    [
      'unsupported grant',
      () => ({ grant_type: 'authorization_code' }),
      'unsupported_grant_type',
      'grant type not supported',
    ],
  ])('%s', async (_name, change, error, description) => {
    const res = await tokenRequest(sim.url, {
      grant_type: 'password',
      client_id: c().consumerKey,
      client_secret: c().consumerSecret,
      username: c().username,
      password: c().password + c().securityToken,
      ...change(),
    });
    expect(res).toEqual({ status: 400, body: { error, error_description: description } });
  });
});

describe('JWT bearer flow', () => {
  const grant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

  it('accepts an RS256 assertion for login.salesforce.com (production) and the session works', async () => {
    for (const aud of [
      'https://login.salesforce.com',
      'https://login.salesforce.com/',
      ['https://login.salesforce.com'],
    ]) {
      const res = await tokenRequest(sim.url, { grant_type: grant, assertion: jwt(jwtClaims({ aud })) });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        instance_url: sim.url,
        token_type: 'Bearer',
        id: `${sim.url}/id/${sim.orgId}/${sim.apiUserId}`,
      });
      const api = new Api(sim, String(res.body.access_token));
      expect((await api.json('GET', '/limits')).status).toBe(200);
    }
  });

  it("refuses the org's own URL (My Domain) and the other kind of org's login host as audience", async () => {
    for (const aud of [sim.url, 'https://test.salesforce.com', 'https://acme.my.salesforce.com']) {
      const res = await tokenRequest(sim.url, { grant_type: grant, assertion: jwt(jwtClaims({ aud })) });
      expect(res).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'audience is invalid' } });
    }
  });

  it('a sandbox accepts only test.salesforce.com, plus its Experience Cloud sites', async () => {
    const site = 'https://acme.my.site.com/partners';
    const sandbox = await startSimulator({
      users: 3,
      logins: 0,
      sandbox: true,
      jwtSiteUrls: [site],
      credentials: sim.credentials,
    });
    try {
      const ask = (aud: string) => tokenRequest(sandbox.url, { grant_type: grant, assertion: jwt(jwtClaims({ aud })) });
      expect((await ask('https://test.salesforce.com')).status).toBe(200);
      expect((await ask(site)).status).toBe(200);
      for (const aud of ['https://login.salesforce.com', sandbox.url]) {
        expect((await ask(aud)).body).toEqual({ error: 'invalid_grant', error_description: 'audience is invalid' });
      }
    } finally {
      await sandbox.close();
    }
  });

  it.each([
    [
      'expired',
      () => jwt(jwtClaims({ exp: Math.floor(Date.now() / 1000) - 10 })),
      'invalid_grant',
      'expired authorization code',
    ],
    [
      'wrong audience',
      () => jwt(jwtClaims({ aud: 'https://evil.example.com' })),
      'invalid_grant',
      'audience is invalid',
    ],
    ['unknown issuer', () => jwt(jwtClaims({ iss: 'someone-else' })), 'invalid_client_id', 'client identifier invalid'],
    [
      'unknown subject',
      () => jwt(jwtClaims({ sub: 'other@example.com' })),
      'invalid_grant',
      "user hasn't approved this consumer",
    ],
    [
      'tampered claims',
      () => {
        const [h, , sig] = jwt(jwtClaims()).split('.');
        const claims = jwtClaims({ exp: Math.floor(Date.now() / 1000) + 9999 });
        return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
      },
      'invalid_grant',
      'invalid assertion',
    ],
    ['not a JWT', () => 'abc', 'invalid_grant', 'invalid assertion'],
  ])('refuses %s', async (_name, assertion, error, description) => {
    const res = await tokenRequest(sim.url, { grant_type: grant, assertion: assertion() });
    expect(res).toEqual({ status: 400, body: { error, error_description: description } });
  });

  it('refuses an assertion signed with another key', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const res = await tokenRequest(sim.url, { grant_type: grant, assertion: jwt(jwtClaims(), other) });
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'invalid assertion' });
  });
});

describe('sessions', () => {
  it('answers 401 INVALID_SESSION_ID without or with an unknown token, and for a revoked one', async () => {
    const token = await passwordLogin(sim);
    const noAuth = await fetch(`${sim.url}/services/data/${V}/limits`);
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toEqual([{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }]);
    expect((await new Api(sim, 'bogus').json('GET', '/limits')).status).toBe(401);
    const api = new Api(sim, token);
    expect((await api.json('GET', '/limits')).status).toBe(200);
    const revoke = await fetch(`${sim.url}/services/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(token)}`,
    });
    expect(revoke.status).toBe(200);
    expect((await api.json('GET', '/limits')).status).toBe(401);
  });

  it('serves the identity URL and userinfo for a valid token only', async () => {
    const token = await passwordLogin(sim);
    const id = await fetch(`${sim.url}/id/${sim.orgId}/${sim.apiUserId}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(id.status).toBe(200);
    expect(await id.json()).toMatchObject({
      user_id: sim.apiUserId,
      organization_id: sim.orgId,
      username: sim.credentials.username,
    });
    const info = await fetch(`${sim.url}/services/oauth2/userinfo`, { headers: { Authorization: `Bearer ${token}` } });
    expect(await info.json()).toMatchObject({ user_id: sim.apiUserId, preferred_username: sim.credentials.username });
    expect(
      (await fetch(`${sim.url}/services/oauth2/userinfo`, { headers: { Authorization: 'Bearer nope' } })).status,
    ).toBe(403);
  });
});
