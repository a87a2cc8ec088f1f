import type { Session, SessionProvider } from '../../../../connectors/salesforce/auth';
import { ApiBudget } from '../../../../connectors/salesforce/budget';
import { SalesforceHttp, TransportError, type FetchFn, type RequestSpec } from '../../../../connectors/salesforce/http';
import { FatalError, RetriableError } from '../../../../kernel/errors';
import { silentLogger } from '../../../../kernel/logger';

class FakeAuth implements SessionProvider {
  logins = 0;
  current: Session = {
    accessToken: 'token-1-SECRET',
    instanceUrl: 'https://acme.my.salesforce.com',
    orgId: '00D000000000001AAA',
    generation: 1,
  };
  async session() {
    return this.current;
  }
  async refresh(stale: Session) {
    if (this.current.generation > stale.generation) return this.current;
    this.logins++;
    this.current = {
      ...this.current,
      accessToken: `token-${this.current.generation + 1}-SECRET`,
      generation: this.current.generation + 1,
    };
    return this.current;
  }
  secrets() {
    return ['the-password', this.current.accessToken];
  }
}

type Reply = Response | Error | (() => Promise<Response>);
function fakeFetch(replies: Reply[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn: FetchFn = async (url, init) => {
    calls.push({ url, init });
    const r = replies.shift();
    if (!r) throw new Error('no more replies');
    if (r instanceof Error) throw r;
    return typeof r === 'function' ? r() : r;
  };
  return { fn, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
const sfError = (status: number, errorCode: string, message: string) => json(status, [{ errorCode, message }]);
const netError = (code: string) =>
  Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(`connect ${code}`), { code }) });

function client(replies: Reply[], opts: { timeoutMs?: number; budget?: ApiBudget } = {}) {
  const auth = new FakeAuth();
  const f = fakeFetch(replies);
  const budget = opts.budget ?? new ApiBudget({ reserve: 0 });
  const http = new SalesforceHttp({
    auth,
    budget,
    logger: silentLogger,
    fetch: f.fn,
    requestTimeoutMs: opts.timeoutMs ?? 5000,
    retryAttempts: 4,
    retryInitialMs: 1,
  });
  return { http, auth, calls: f.calls, budget };
}

const get: RequestSpec = {
  method: 'GET',
  path: '/services/data/v62.0/jobs/query/750x',
  repeatable: true,
  what: 'poll query job 750x',
};
const create: RequestSpec = {
  method: 'POST',
  path: '/services/data/v62.0/jobs/query',
  body: { operation: 'query' },
  repeatable: false,
  what: 'create the User query job',
};

async function failure(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure');
}

describe('Salesforce REST client: the classification table', () => {
  it('sends the bearer token, API path, JSON and gzip headers', async () => {
    const { http, calls } = client([json(200, { id: '750x' })]);
    await http.json(create);
    expect(calls[0].url).toBe('https://acme.my.salesforce.com/services/data/v62.0/jobs/query');
    const h = calls[0].init.headers as Record<string, string>;
    expect(h.Authorization).toBe('Bearer token-1-SECRET');
    expect(h['Accept-Encoding']).toBe('gzip');
    expect(h['Content-Type']).toMatch(/application\/json/);
  });

  it('401 → re-authenticates once and sends again', async () => {
    const { http, auth, calls } = client([
      sfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid'),
      json(200, { ok: true }),
    ]);
    await expect(http.json(get)).resolves.toEqual({ ok: true });
    expect(auth.logins).toBe(1);
    expect((calls[1].init.headers as Record<string, string>).Authorization).toBe('Bearer token-2-SECRET');
  });

  it('401 again after re-authenticating → fatal, without the token in the message', async () => {
    const { http, auth } = client([
      sfError(401, 'INVALID_SESSION_ID', 'bad token token-1-SECRET'),
      sfError(401, 'INVALID_SESSION_ID', 'still bad token-2-SECRET'),
    ]);
    const err = await failure(http.json(get));
    expect(err).toBeInstanceOf(FatalError);
    expect(err.code).toBe('SALESFORCE_SESSION_INVALID');
    expect(err.message).not.toContain('SECRET');
    expect(auth.logins).toBe(1);
  });

  it('a job-creation POST that met 401 is sent again after re-auth (401 means it was not processed)', async () => {
    const { http, calls } = client([sfError(401, 'INVALID_SESSION_ID', 'expired'), json(200, { id: '750x' })]);
    await expect(http.json(create)).resolves.toEqual({ id: '750x' });
    expect(calls).toHaveLength(2);
  });

  it('5xx and network errors on a repeatable request → retried with backoff', async () => {
    const { http, calls } = client([
      sfError(503, 'SERVER_UNAVAILABLE', 'down'),
      netError('ECONNRESET'),
      json(200, { ok: 1 }),
    ]);
    await expect(http.json(get)).resolves.toEqual({ ok: 1 });
    expect(calls).toHaveLength(3);
  });

  it('gives up after retryAttempts, keeping a retriable error', async () => {
    const { http, calls } = client([json(500, null), json(500, null), json(500, null), json(500, null)]);
    const err = await failure(http.json(get));
    expect(err).toBeInstanceOf(RetriableError);
    expect(err.code).toBe('SALESFORCE_SERVER_ERROR');
    expect(calls).toHaveLength(4);
  });

  it('a job-creation POST that met a 5xx is not repeated blindly', async () => {
    const { http, calls } = client([sfError(500, 'UNKNOWN_EXCEPTION', 'boom'), json(200, { id: 'never' })]);
    const err = await failure(http.json(create));
    expect(err).toBeInstanceOf(RetriableError);
    expect(err.message).toMatch(/not repeated/);
    expect(calls).toHaveLength(1);
  });

  it('a POST that provably never reached Salesforce (connection refused) is retried', async () => {
    const { http, calls } = client([netError('ECONNREFUSED'), json(200, { id: '750x' })]);
    await expect(http.json(create)).resolves.toEqual({ id: '750x' });
    expect(calls).toHaveLength(2);
  });

  it('403 REQUEST_LIMIT_EXCEEDED → fatal at once, with an actionable message, no waiting', async () => {
    const { http, calls } = client([sfError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.')]);
    const err = await failure(http.json(get));
    expect(err).toBeInstanceOf(FatalError);
    expect(err.code).toBe('SALESFORCE_REQUEST_LIMIT_EXCEEDED');
    expect(err.message).toMatch(/TotalRequests Limit exceeded.*rolling 24 h.*next scheduled run/);
    expect(calls).toHaveLength(1);
  });

  it('other 4xx → fatal with Salesforce errorCode and message', async () => {
    const { http } = client([sfError(400, 'INVALID_FIELD', "No such column 'Foo' on entity 'User'")]);
    const err = await failure(http.json(create));
    expect(err).toBeInstanceOf(FatalError);
    expect(err.code).toBe('SALESFORCE_INVALID_FIELD');
    expect(err.message).toContain("INVALID_FIELD: No such column 'Foo' on entity 'User'");
    expect(err.message).toContain('create the User query job');
  });

  it('a request with no response within requestTimeoutMs → retriable timeout', async () => {
    const never: FetchFn = (_url, init) =>
      new Promise((_resolve, reject) =>
        init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    const auth = new FakeAuth();
    const http = new SalesforceHttp({
      auth,
      budget: new ApiBudget({ reserve: 0 }),
      logger: silentLogger,
      fetch: never,
      requestTimeoutMs: 20,
      retryAttempts: 2,
      retryInitialMs: 1,
    });
    const err = await failure(http.json(get));
    expect(err).toBeInstanceOf(TransportError);
    expect(err.code).toBe('SALESFORCE_TIMEOUT');
  });

  it('reads Sforce-Limit-Info into the budget and stops at the share', async () => {
    const budget = new ApiBudget({ reserve: 0, share: 0.5 });
    const { http, calls } = client([json(200, {}, { 'Sforce-Limit-Info': 'api-usage=50/100' }), json(200, {})], {
      budget,
    });
    await http.json(get);
    expect(budget.usage()).toEqual({ used: 50, max: 100 });
    const err = await failure(http.json(get));
    expect(err.code).toBe('SALESFORCE_API_BUDGET');
    expect(calls).toHaveLength(1);
  });

  it('never sends the token to another host', async () => {
    const { http, calls } = client([json(200, {})]);
    const err = await failure(http.json({ ...get, path: 'https://evil.example.com/steal' }));
    expect(err).toBeInstanceOf(FatalError);
    expect(calls).toHaveLength(0);
  });

  it('streams a body and turns a cut connection into a retriable transport error', async () => {
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (n++ === 0) controller.enqueue(new TextEncoder().encode('"Id"\n"1"\n'));
        else
          controller.error(
            Object.assign(new TypeError('terminated'), {
              cause: { code: 'UND_ERR_SOCKET', message: 'other side closed' },
            }),
          );
      },
    });
    const { http } = client([new Response(body, { status: 200 })]);
    const res = await http.stream({ ...get, accept: 'text/csv' });
    const chunks: Uint8Array[] = [];
    const err = await failure(
      (async () => {
        for await (const c of res.chunks) chunks.push(c);
      })(),
    );
    expect(chunks).toHaveLength(1);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.message).toMatch(/middle of the response/);
  });
});
