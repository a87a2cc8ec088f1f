/**
 * The OAuth 2.0 token endpoint and the sessions it issues: username-password, client
 * credentials and JWT bearer grants, answering with Salesforce's error bodies. Every grant logs
 * in as the org's API user; sessions last until revoked or expired by an injected fault.
 */
import { createHmac, createPublicKey, KeyObject, randomBytes, verify } from 'node:crypto';
import { SimCredentials } from './api';

export interface Session {
  token: string;
  userId: string;
  issuedAt: number;
}

export interface TokenAnswer {
  status: number;
  body: Record<string, string>;
}

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The JWT audiences Salesforce accepts: the generic login host of the org's kind, and Experience
 * Cloud site URLs. Never the My Domain URL, even when the token request is posted to it. */
export function jwtAudiences(sandbox: boolean, siteUrls: readonly string[]): string[] {
  return [
    sandbox ? 'https://test.salesforce.com' : 'https://login.salesforce.com',
    ...siteUrls.map((u) => u.replace(/\/$/, '')),
  ];
}

const oauthError = (error: string, description: string): TokenAnswer => ({
  status: 400,
  body: { error, error_description: description },
});

function b64urlJson(part: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}

export class OAuth {
  private readonly sessions = new Map<string, Session>();
  private readonly publicKey: KeyObject;

  constructor(
    private readonly creds: SimCredentials,
    publicKeyPem: string,
    private readonly url: string,
    private readonly orgId: string,
    private readonly apiUserId: string,
    private readonly audiences: readonly string[] = jwtAudiences(false, []),
  ) {
    this.publicKey = createPublicKey(publicKeyPem);
  }

  session(token: string | null): Session | undefined {
    return token === null ? undefined : this.sessions.get(token);
  }

  revoke(token: string): boolean {
    return this.sessions.delete(token);
  }

  identityUrl(): string {
    return `${this.url}/id/${this.orgId}/${this.apiUserId}`;
  }

  /** POST /services/oauth2/token with the form fields. */
  token(form: URLSearchParams): TokenAnswer {
    const grant = form.get('grant_type');
    if (grant === 'password') {
      const bad = this.checkClient(form);
      if (bad) return bad;
      if (
        form.get('username') !== this.creds.username ||
        form.get('password') !== this.creds.password + this.creds.securityToken
      ) {
        return oauthError('invalid_grant', 'authentication failure');
      }
      return this.issue();
    }
    if (grant === 'client_credentials') {
      const bad = this.checkClient(form);
      return bad ?? this.issue({ scope: 'api' });
    }
    if (grant === JWT_GRANT) return this.jwt(form.get('assertion') ?? '');
    return oauthError('unsupported_grant_type', 'grant type not supported');
  }

  private checkClient(form: URLSearchParams): TokenAnswer | null {
    if (form.get('client_id') !== this.creds.consumerKey)
      return oauthError('invalid_client_id', 'client identifier invalid');
    if (form.get('client_secret') !== this.creds.consumerSecret)
      return oauthError('invalid_client', 'invalid client credentials');
    return null;
  }

  /** RS256 JWT: iss = consumer key, sub = username, aud = a login URL, exp in the future. */
  private jwt(assertion: string): TokenAnswer {
    const parts = assertion.split('.');
    const header = parts.length === 3 ? b64urlJson(parts[0]) : null;
    const claims = parts.length === 3 ? b64urlJson(parts[1]) : null;
    if (!header || !claims || header.alg !== 'RS256') return oauthError('invalid_grant', 'invalid assertion');
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      this.publicKey,
      Buffer.from(parts[2], 'base64url'),
    );
    if (claims.iss !== this.creds.consumerKey) return oauthError('invalid_client_id', 'client identifier invalid');
    if (!signed) return oauthError('invalid_grant', 'invalid assertion');
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const okAud = aud.some((a) => typeof a === 'string' && this.audiences.includes(a.replace(/\/$/, '')));
    if (!okAud) return oauthError('invalid_grant', 'audience is invalid');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now())
      return oauthError('invalid_grant', 'expired authorization code');
    if (claims.sub !== this.creds.username) return oauthError('invalid_grant', "user hasn't approved this consumer");
    return this.issue({ scope: 'api' });
  }

  private issue(extra: Record<string, string> = {}): TokenAnswer {
    const issuedAt = Date.now();
    // Real tokens are "<15-char org id>!<opaque>"; clients must treat them as opaque.
    const token = `${this.orgId.slice(0, 15)}!${randomBytes(36).toString('base64url')}`;
    this.sessions.set(token, { token, userId: this.apiUserId, issuedAt });
    const id = this.identityUrl();
    const signature = createHmac('sha256', this.creds.consumerSecret)
      .update(id + issuedAt)
      .digest('base64');
    return {
      status: 200,
      body: {
        access_token: token,
        ...extra,
        instance_url: this.url,
        id,
        token_type: 'Bearer',
        issued_at: String(issuedAt),
        signature,
      },
    };
  }
}
