/**
 * Raw-HTTP helpers for the simulator contract tests: log in, drive a Bulk API 2.0 query job,
 * read every page. Deliberately independent of the connector's own client.
 */
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { Simulator } from '../../simulator/api';

export const V = 'v62.0';

/**
 * A JSON body as the simulator sent it. The contract tests probe Salesforce's wire format field by
 * field (including fields that must be absent), and each asserts the shape it reads: a declared type
 * here would restate the simulator and hide exactly the drift these tests exist to catch.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: the test asserts the shape
export type SimJson = any;

export async function passwordLogin(sim: Simulator): Promise<string> {
  const c = sim.credentials;
  const res = await tokenRequest(sim.url, {
    grant_type: 'password',
    client_id: c.consumerKey,
    client_secret: c.consumerSecret,
    username: c.username,
    password: c.password + c.securityToken,
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return String(res.body.access_token);
}

export async function tokenRequest(
  url: string,
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export class Api {
  constructor(
    readonly sim: Simulator,
    public token: string,
    readonly version = V,
  ) {}

  url(path: string, version = this.version): string {
    return `${this.sim.url}/services/data/${version}${path}`;
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    version?: string,
  ): Promise<Response> {
    return fetch(this.url(path, version), {
      method,
      headers: { Authorization: `Bearer ${this.token}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async json(method: string, path: string, body?: unknown): Promise<{ status: number; body: SimJson }> {
    const res = await this.call(method, path, body);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** Creates a query job; returns the create response. */
  async createJob(query: string, extra: Record<string, unknown> = {}): Promise<{ status: number; body: SimJson }> {
    return this.json('POST', '/jobs/query', { operation: 'query', query, ...extra });
  }

  /** Polls until the job leaves UploadComplete/InProgress (bounded number of polls). */
  async waitJob(id: string, maxPolls = 50): Promise<SimJson> {
    for (let i = 0; i < maxPolls; i++) {
      const { body } = await this.json('GET', `/jobs/query/${id}`);
      if (!['UploadComplete', 'InProgress'].includes(body.state)) return body;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`job ${id} did not finish`);
  }

  /** Runs a query to completion and returns its info. */
  async runJob(query: string, extra: Record<string, unknown> = {}): Promise<SimJson> {
    const created = await this.createJob(query, extra);
    if (created.status !== 200) throw new Error(`create failed: ${created.status} ${JSON.stringify(created.body)}`);
    return this.waitJob(created.body.id);
  }

  /** Reads every page by following Sforce-Locator; returns raw texts and headers. */
  async pages(
    id: string,
    maxRecords?: number,
    gzip = false,
  ): Promise<{ text: string; locator: string; count: number }[]> {
    const out: { text: string; locator: string; count: number }[] = [];
    let locator: string | null = null;
    for (let guard = 0; guard < 2_000; guard++) {
      const q = new URLSearchParams();
      if (locator) q.set('locator', locator);
      if (maxRecords) q.set('maxRecords', String(maxRecords));
      const res = await fetch(this.url(`/jobs/query/${id}/results?${q}`), {
        headers: { Authorization: `Bearer ${this.token}`, ...(gzip ? { 'Accept-Encoding': 'gzip' } : {}) },
      });
      if (res.status !== 200) throw new Error(`results ${res.status}: ${await res.text()}`);
      const text = await res.text();
      locator = res.headers.get('sforce-locator');
      out.push({ text, locator: String(locator), count: Number(res.headers.get('sforce-numberofrecords')) });
      if (locator === 'null') return out;
    }
    throw new Error('locator chain did not end');
  }

  /** All records of a finished job, parsed (header row → keys). */
  async records(id: string, maxRecords?: number): Promise<Record<string, string>[]> {
    const pages = await this.pages(id, maxRecords);
    return pages.flatMap((p) => parseCsv(p.text));
  }
}

export function parseCsv(text: string): Record<string, string>[] {
  return parse(text, { columns: true, relax_column_count: false }) as Record<string, string>[];
}

/** fetch() transparently gunzips; this reads the raw gzip body to prove compression. */
export async function rawGzip(url: string, token: string): Promise<{ encoding: string | null; body: string }> {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { Authorization: `Bearer ${token}`, 'Accept-Encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const encoding = res.headers['content-encoding'] ?? null;
          resolve({ encoding, body: encoding === 'gzip' ? gunzipSync(buf).toString('utf8') : buf.toString('utf8') });
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
