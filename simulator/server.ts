/**
 * The HTTP front door: OAuth endpoints, identity, and /services/data with Salesforce's gate —
 * session check (401), daily API budget (403), usage counting and the Sforce-Limit-Info
 * header — before routing. Injected faults are applied here, in that order.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { SimRequestLogEntry } from './api';
import { SfError, notFound } from './errors';
import { Faults } from './faults';
import { bearerToken, readBody, sendJson, sendSfError } from './http';
import { OAuth } from './oauth';
import { limits, parseVersion, resources, sobjects, versions } from './routes-data';
import { QueryJobs } from './routes-jobs';
import { QueryCursors } from './routes-query';
import { Schema } from './schema';

export interface ApiUser {
  id: string;
  username: string;
  name: string;
  email: string;
}

export interface ServerDeps {
  url: () => string;
  orgId: string;
  apiUser: ApiUser;
  oauth: () => OAuth;
  schema: Schema;
  jobs: QueryJobs;
  queries: QueryCursors;
  faults: Faults;
  usage: { used: number; max: number; jobsCreated: number };
  log: SimRequestLogEntry[];
  /** Highest API version the org serves (an org on an older release serves fewer). */
  maxVersion: number;
}

const SERVER_ERRORS: Record<number, [string, string]> = {
  500: [
    'UNKNOWN_EXCEPTION',
    'An unexpected error occurred. Please include this ErrorId if you contact support: 1840923551-98765 (-1130843563)',
  ],
  502: ['SERVER_UNAVAILABLE', 'Bad gateway'],
  503: ['SERVER_UNAVAILABLE', 'Server temporarily unavailable'],
};

export function createHandler(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = req.url ?? '/';
    // Log every answer when its status line is written (fetch resolves on headers).
    const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
    (res as unknown as { writeHead: (...a: unknown[]) => ServerResponse }).writeHead = (...args: unknown[]) => {
      deps.log.push({ method: req.method ?? 'GET', path, status: Number(args[0]) });
      return writeHead(...args);
    };
    route(deps, req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof SfError) return sendSfError(res, err);
      console.error('simulator: internal error', err);
      sendSfError(res, new SfError(500, 'UNKNOWN_EXCEPTION', String(err)));
    });
  };
}

async function route(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const u = new URL(req.url ?? '/', deps.url());
  const segs = u.pathname.split('/').filter((s) => s !== '');
  const method = req.method ?? 'GET';
  if (u.pathname === '/services/oauth2/token' && method === 'POST') {
    // an administrator reset the password or revoked the app: every login is refused
    if (deps.faults.take('loginFails'))
      return sendJson(res, 400, { error: 'invalid_grant', error_description: 'authentication failure' });
    const answer = deps.oauth().token(new URLSearchParams(await readBody(req)));
    return sendJson(res, answer.status, answer.body);
  }
  if (u.pathname === '/services/oauth2/revoke' && method === 'POST') {
    const token = new URLSearchParams(await readBody(req)).get('token') ?? '';
    if (!deps.oauth().revoke(token))
      return sendJson(res, 400, {
        error: 'unsupported_token_type',
        error_description: 'this token type is not supported',
      });
    res.writeHead(200);
    res.end();
    return;
  }
  if (u.pathname === '/services/oauth2/userinfo' || segs[0] === 'id') {
    const s = deps.oauth().session(bearerToken(req) ?? u.searchParams.get('oauth_token'));
    if (!s) {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end('Bad_OAuth_Token');
      return;
    }
    if (segs[0] === 'id' && (segs[1] !== deps.orgId || segs[2] !== deps.apiUser.id)) throw notFound();
    return sendJson(res, 200, identity(deps, segs[0] === 'id'));
  }
  if (segs[0] === 'services' && segs[1] === 'data') return data(deps, req, res, segs.slice(2), u.searchParams);
  throw notFound();
}

async function data(
  deps: ServerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  segs: string[],
  query: URLSearchParams,
): Promise<void> {
  const limitInfo = (): Record<string, string> => ({
    'Sforce-Limit-Info': `api-usage=${deps.usage.used}/${deps.usage.max}`,
  });
  if (segs.length === 0) return sendJson(res, 200, versions(deps.maxVersion), limitInfo());
  try {
    const token = bearerToken(req);
    if (!deps.oauth().session(token)) throw new SfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    if (deps.faults.take('expireSession')) {
      deps.oauth().revoke(token as string);
      throw new SfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    }
    const limited = deps.faults.take('requestLimitExceeded');
    if (limited?.concurrent)
      throw new SfError(403, 'REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.');
    if (limited || deps.usage.used >= deps.usage.max) {
      throw new SfError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    }
    deps.usage.used++;
    const category =
      segs[1] !== 'jobs' ? 'other' : segs[4] === 'results' || segs[4] === 'resultPages' ? 'results' : 'jobs';
    const fault = deps.faults.take('serverError', (f) => (f.path ?? 'any') === 'any' || f.path === category);
    if (fault) {
      const status = fault.status ?? 500;
      throw new SfError(status, ...SERVER_ERRORS[status]);
    }
    const version = parseVersion(segs[0], deps.maxVersion);
    if (version === null) throw notFound();
    const rest = segs.slice(1);
    const method = req.method ?? 'GET';
    if (rest[0] === 'jobs' && rest[1] === 'query') {
      const before = deps.jobs.count;
      await deps.jobs.handle(req, res, version, rest.slice(2), query, limitInfo());
      deps.usage.jobsCreated += deps.jobs.count - before;
      return;
    }
    if (method !== 'GET') throw notFound();
    if (rest.length === 0) return sendJson(res, 200, resources(version), limitInfo());
    if (rest[0] === 'limits' && rest.length === 1)
      return sendJson(res, 200, limits(deps.usage.used, deps.usage.max, deps.usage.jobsCreated), limitInfo());
    if (rest[0] === 'sobjects') return sendJson(res, 200, sobjects(deps.schema, version, rest.slice(1)), limitInfo());
    if (rest[0] === 'query') {
      const options = req.headers['sforce-query-options'];
      const page = await deps.queries.handle(
        version,
        rest.slice(1),
        query.get('q'),
        Array.isArray(options) ? options[0] : options,
      );
      return sendJson(res, 200, page, limitInfo());
    }
    throw notFound();
  } catch (err) {
    if (err instanceof SfError && !res.headersSent) return sendSfError(res, err, limitInfo());
    throw err;
  }
}

function identity(deps: ServerDeps, full: boolean): Record<string, unknown> {
  const base = deps.url();
  const u = deps.apiUser;
  const id = `${base}/id/${deps.orgId}/${u.id}`;
  if (!full) {
    return {
      sub: id,
      user_id: u.id,
      organization_id: deps.orgId,
      preferred_username: u.username,
      name: u.name,
      email: u.email,
      email_verified: true,
      zoneinfo: 'Europe/Berlin',
      locale: 'en_US',
      user_type: 'STANDARD',
      active: true,
    };
  }
  return {
    id,
    asserted_user: true,
    user_id: u.id,
    organization_id: deps.orgId,
    username: u.username,
    nick_name: 'integration',
    display_name: u.name,
    email: u.email,
    email_verified: true,
    first_name: 'Integration',
    last_name: 'API User',
    timezone: 'Europe/Berlin',
    status: { created_date: null, body: null },
    urls: {
      rest: `${base}/services/data/v{version}/`,
      sobjects: `${base}/services/data/v{version}/sobjects/`,
      query: `${base}/services/data/v{version}/query/`,
      profile: `${base}/${u.id}`,
    },
    active: true,
    user_type: 'STANDARD',
    language: 'en_US',
    locale: 'en_US',
    utcOffset: 3600000,
    last_modified_date: '2026-01-01T00:00:00.000+0000',
    is_app_installed: true,
  };
}
