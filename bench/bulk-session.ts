/**
 * The bench's own raw Bulk API 2.0 client, for the plain reads (bench/roles.ts `plain-read`,
 * bench/sim-read.ts): a password-flow login and a query job created and waited for, without the
 * extractor, so that what is measured is the pages' transfer alone. A command's helper, not product
 * code: no retries, a failure ends the bench.
 */
import { sleep } from '../kernel/retry';

/** The password flow's fields (a `passwordAuth(...)` of simulator/api.ts, or a connector's `auth`). */
export interface PasswordLogin {
  consumerKey: string;
  consumerSecret: string;
  username: string;
  password: string;
  securityToken?: string;
}

export interface BulkSession {
  /** `<instance>/services/data/v<version>/jobs/query` */
  jobsUrl: string;
  instanceUrl: string;
  headers: Record<string, string>;
}

export async function bulkSession(
  loginUrl: string,
  a: PasswordLogin,
  opts: { apiVersion?: string; gzip?: boolean } = {},
): Promise<BulkSession> {
  const res = await fetch(`${loginUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: a.consumerKey,
      client_secret: a.consumerSecret,
      username: a.username,
      password: `${a.password}${a.securityToken ?? ''}`,
    }),
  });
  if (!res.ok) throw new Error(`plain read: login HTTP ${res.status}`);
  const token = (await res.json()) as { access_token: string; instance_url: string };
  return {
    jobsUrl: `${token.instance_url}/services/data/v${opts.apiVersion ?? '62.0'}/jobs/query`,
    instanceUrl: token.instance_url,
    headers: {
      authorization: `Bearer ${token.access_token}`,
      'accept-encoding': opts.gzip === false ? 'identity' : 'gzip',
    },
  };
}

/** Creates a query job and waits until it is JobComplete (polled every 100 ms); its id. */
export async function completedQueryJob(s: BulkSession, query: string): Promise<string> {
  const job = (await (
    await fetch(s.jobsUrl, {
      method: 'POST',
      headers: { ...s.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'query', query }),
    })
  ).json()) as { id: string };
  for (;;) {
    const state = ((await (await fetch(`${s.jobsUrl}/${job.id}`, { headers: s.headers })).json()) as { state: string })
      .state;
    if (state === 'JobComplete') return job.id;
    if (state === 'Failed' || state === 'Aborted') throw new Error(`plain read: job ${job.id} ${state}`);
    await sleep(100); // the job's state is only known by asking, as the extractor polls
  }
}

export async function deleteJob(s: BulkSession, id: string): Promise<void> {
  await fetch(`${s.jobsUrl}/${id}`, { method: 'DELETE', headers: s.headers });
}
