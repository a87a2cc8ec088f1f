/**
 * Authentication: jsforce performs the OAuth 2.0 token requests (password, client credentials,
 * JWT bearer); this module keeps the current session and re-authenticates on demand.
 *
 * Who calls it: http.ts asks for `session()` before each request and calls `refresh()` once
 * when Salesforce answers 401 INVALID_SESSION_ID. Concurrent refreshes share one login.
 * Errors: a rejected login is a FatalError SALESFORCE_AUTH_FAILED naming the flow, the login URL
 * and Salesforce's error code; a network error or 5xx from the token endpoint is retried.
 * No secret (password, token, consumer secret, key, access token) ever appears in a message.
 */
import { createSign } from 'node:crypto';
import { Connection } from 'jsforce';
// jsforce reads HTTPS_PROXY once at import and ignores NO_PROXY: reset its defaults so that the
// proxy of a token request is decided by proxy.ts alone (passed as httpProxy per connection).
import { setDefaults as setJsforceRequestDefaults } from 'jsforce/lib/request';
import { FatalError, RetriableError, isRetriable } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import { scrub } from '../../kernel/logger';
import { withRetry } from '../../kernel/retry';
import type { AuthOptions } from './config';
import { shownProxy, type ProxyRoute } from './proxy';
import { configSecrets } from './config';

export interface Session {
  accessToken: string;
  /** Origin of the org's instance, from the token response (My Domain in real orgs). */
  instanceUrl: string;
  /** 18-char organization Id, from the token response's identity URL ('' if it carried none). */
  orgId: string;
  /** Login generation: 1 for the first login, +1 on every re-authentication. */
  generation: number;
}

export interface SessionProvider {
  /** The current session; logs in first if there is none. */
  session(): Promise<Session>;
  /** Logs in again unless another caller already replaced `stale`. */
  refresh(stale: Session): Promise<Session>;
  /** Every secret known so far (configured ones and the current access token), for scrubbing. */
  secrets(): string[];
}

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * The JWT `aud` Salesforce accepts for a login URL: https://test.salesforce.com for a sandbox
 * (test.salesforce.com itself or a `*.sandbox.my.salesforce.com` My Domain), otherwise
 * https://login.salesforce.com. Never the My Domain URL itself: Salesforce rejects that audience
 * even when the token request is posted to the My Domain. Experience Cloud sites set `jwtAudience`.
 */
export function defaultJwtAudience(loginUrl: string): string {
  const host = new URL(loginUrl).hostname.toLowerCase();
  const sandbox = host === 'test.salesforce.com' || host.endsWith('.sandbox.my.salesforce.com');
  return sandbox ? 'https://test.salesforce.com' : 'https://login.salesforce.com';
}

/** The username-password flow's retirement for connected apps (salesforce.md). */
export const PASSWORD_FLOW_RETIREMENT = '2027-02-20';

/** Start-up warnings about the auth settings (logged by the extractor, shown by `check`). */
export function authWarnings(auth: AuthOptions): string[] {
  if (auth.flow !== 'password') return [];
  return [
    `the username-password OAuth flow is retired for connected apps on ${PASSWORD_FLOW_RETIREMENT} ` +
      "(and blocked by default in orgs created since Summer '23): switch to oauthFlow: jwt " +
      '(recommended, a certificate on the connected app) or oauthFlow: client_credentials (a run-as user, ' +
      'on the My Domain URL)',
  ];
}

/** An RS256 JWT for the bearer flow: iss = consumer key, sub = username, aud (see defaultJwtAudience), exp in 3 min. */
export function buildJwtAssertion(opts: {
  consumerKey: string;
  username: string;
  audience: string;
  privateKeyPem: string;
  nowMs: number;
}): string {
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = base64url(
    JSON.stringify({
      iss: opts.consumerKey,
      sub: opts.username,
      aud: opts.audience,
      exp: Math.floor(opts.nowMs / 1000) + 180,
    }),
  );
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${claims}`);
  let signature: string;
  try {
    signature = signer.sign(opts.privateKeyPem).toString('base64url');
  } catch (err) {
    throw new FatalError(
      'CONFIG_INVALID',
      'salesforce.auth.privateKeyPem: cannot sign the JWT with this key (expected an RSA private key in PEM)',
      {
        cause: new Error((err as Error).message),
      },
    );
  }
  return `${header}.${claims}.${signature}`;
}

setJsforceRequestDefaults({
  timeout: process.env.HTTP_TIMEOUT ? parseInt(process.env.HTTP_TIMEOUT, 10) : undefined,
  followRedirect: true,
});

export interface AuthDeps {
  logger: Logger;
  /** The proxy route for the token requests (proxy.ts); none = direct. */
  proxy?: ProxyRoute;
  clock: { now(): number };
  retryAttempts: number;
  retryInitialMs: number;
}

export class SalesforceAuth implements SessionProvider {
  private current: Session | null = null;
  private pending: Promise<Session> | null = null;
  private generation = 0;

  constructor(
    private readonly loginUrl: string,
    private readonly apiVersion: string,
    private readonly auth: AuthOptions,
    private readonly deps: AuthDeps,
  ) {}

  secrets(): string[] {
    const s = [...configSecrets(this.auth), ...(this.deps.proxy?.secrets ?? [])];
    if (this.current) s.push(this.current.accessToken);
    return s;
  }

  session(): Promise<Session> {
    if (this.current) return Promise.resolve(this.current);
    return this.login();
  }

  refresh(stale: Session): Promise<Session> {
    if (this.current && this.current.generation > stale.generation) return Promise.resolve(this.current);
    this.deps.logger.info('Salesforce session expired; authenticating again', { flow: this.auth.flow });
    return this.login();
  }

  private login(): Promise<Session> {
    if (!this.pending) {
      this.pending = withRetry(() => this.requestToken(), {
        attempts: this.deps.retryAttempts,
        initialDelayMs: this.deps.retryInitialMs,
        onRetry: (err, attempt, delayMs) =>
          this.deps.logger.warn('Salesforce login failed, retrying', {
            attempt,
            delayMs,
            error: (err as Error).message,
          }),
      }).finally(() => {
        this.pending = null;
      });
    }
    return this.pending;
  }

  private async requestToken(): Promise<Session> {
    const a = this.auth;
    const httpProxy = this.deps.proxy?.forUrl(this.loginUrl) ?? undefined;
    const conn = new Connection({
      loginUrl: this.loginUrl,
      version: this.apiVersion,
      httpProxy,
      oauth2: {
        loginUrl: this.loginUrl,
        clientId: a.consumerKey,
        clientSecret: a.flow === 'jwt' ? undefined : a.consumerSecret,
      },
    });
    try {
      if (a.flow === 'password') {
        await conn.login(a.username, a.password + (a.securityToken ?? ''));
      } else if (a.flow === 'client_credentials') {
        await conn.authorize({ grant_type: 'client_credentials' });
      } else {
        const assertion = buildJwtAssertion({
          consumerKey: a.consumerKey,
          username: a.username,
          audience: a.audience ?? defaultJwtAudience(this.loginUrl),
          privateKeyPem: a.privateKeyPem,
          nowMs: this.deps.clock.now(),
        });
        await conn.authorize({ grant_type: JWT_BEARER_GRANT, assertion });
      }
    } catch (err) {
      throw this.classify(err);
    }
    if (!conn.accessToken || !conn.instanceUrl) {
      throw new FatalError(
        'SALESFORCE_AUTH_FAILED',
        `Salesforce ${a.flow} login at ${this.loginUrl} returned no access token or instance URL`,
      );
    }
    this.generation++;
    this.current = {
      accessToken: conn.accessToken,
      instanceUrl: new URL(conn.instanceUrl).origin,
      orgId: conn.userInfo?.organizationId ?? '',
      generation: this.generation,
    };
    this.deps.logger.info('Logged in to Salesforce', {
      flow: a.flow,
      instanceUrl: this.current.instanceUrl,
      generation: this.generation,
    });
    return this.current;
  }

  /** Token-endpoint failures: OAuth errors (invalid_grant, invalid_client, …) are fatal; network and 5xx are
   *  retriable. */
  private classify(err: unknown): Error {
    if (isRetriable(err) || err instanceof FatalError) return err as Error;
    const e = err as { name?: string; message?: string; code?: string };
    const name = String(e?.name ?? 'Error');
    const detail = scrub(String(e?.message ?? ''), this.secrets()).slice(0, 300);
    const proxy = this.deps.proxy?.forUrl(this.loginUrl);
    const where =
      `Salesforce ${this.auth.flow} login at ` +
      `${this.loginUrl}${proxy ? ` through the proxy ${shownProxy(proxy)}` : ''}`;
    if (name === 'ERROR_HTTP_407' || /\b407\b/.test(detail)) {
      return new FatalError(
        'SALESFORCE_PROXY_AUTH_FAILED',
        `${where} failed: the proxy refused the credentials (HTTP 407 Proxy ` +
          'Authentication Required); check salesforceProxy.username and its password',
      );
    }
    if (/^ERROR_HTTP_5\d\d$/.test(name) || name === 'FetchError' || (e?.code && /^(E[A-Z]+|UND_ERR)/.test(e.code))) {
      return new RetriableError('SALESFORCE_AUTH_UNAVAILABLE', `${where} failed: ${e?.code ?? name} ${detail}`.trim());
    }
    const hint =
      this.auth.flow === 'password'
        ? 'check the username, the password with its security token, and the consumer key and secret'
        : this.auth.flow === 'client_credentials'
          ? 'check the consumer key and secret, that the connected app allows the client credentials flow ' +
            'with a run-as user, and that the URL is the My Domain'
          : 'check the consumer key, the username, that the certificate on the connected app matches the ' +
            'private key, and that the user is pre-authorized';
    return new FatalError(
      'SALESFORCE_AUTH_FAILED',
      `${where} was rejected: ${name}${detail ? ` (${detail})` : ''}; ${hint}`,
    );
  }
}
