/**
 * Memory probe (not a test): serves N users and downloads every page of a full User extract
 * over raw HTTP, discarding the bytes, while sampling RSS every 100 ms. Run for two sizes to
 * show that memory stays flat as the org grows:
 *   node -r ts-node/register/transpile-only simulator/measure-memory.ts [--gzip]
 * Each size runs in a fresh child process (--users N runs one size in this process).
 */
import { spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { startSimulator } from './index';

const SIZES = [100_000, 1_000_000];
const PAGE = 50_000;

interface Probe {
  users: number;
  rows: number;
  bytes: number;
  pages: number;
  baselineRssMB: number;
  peakRssMB: number;
  jobSeconds: number;
  downloadSeconds: number;
  rowsPerSecond: number;
}

/** The fields of a Bulk API 2.0 job's info that this measurement reads. */
interface JobInfo {
  id: string;
  state: string;
  numberRecordsProcessed: number;
}

const mb = (n: number): number => Math.round((n / 1048576) * 10) / 10;

async function json<T>(url: string, token: string, method = 'GET', body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** GETs one results page, counting bytes and discarding them. */
function page(url: string, token: string, gzip: boolean): Promise<{ bytes: number; count: number; locator: string }> {
  return new Promise((resolve, reject) => {
    get(
      url,
      { headers: { Authorization: `Bearer ${token}`, ...(gzip ? { 'Accept-Encoding': 'gzip' } : {}) } },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`results: ${res.statusCode}`));
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () =>
          resolve({
            bytes,
            count: Number(res.headers['sforce-numberofrecords']),
            locator: String(res.headers['sforce-locator']),
          }),
        );
        res.on('error', reject);
      },
    ).on('error', reject);
  });
}

async function probe(users: number, gzip: boolean): Promise<Probe> {
  const sim = await startSimulator({ users, logins: 1000, seed: 1 });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  try {
    const c = sim.credentials;
    const tok = await fetch(`${sim.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: c.consumerKey,
        client_secret: c.consumerSecret,
        username: c.username,
        password: c.password + c.securityToken,
      }),
    });
    const token = ((await tok.json()) as { access_token: string }).access_token;
    const base = `${sim.url}/services/data/v62.0`;
    const describe = await json<{ fields: { name: string; type: string }[] }>(`${base}/sobjects/User/describe`, token);
    const fields: string[] = describe.fields.filter((f) => f.type !== 'address').map((f) => f.name);
    fields.push('UserRole.Name', 'Profile.Name', 'Profile.UserLicense.Name');
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    peak = baseline;

    const t0 = Date.now();
    const job = await json<JobInfo>(`${base}/jobs/query`, token, 'POST', {
      operation: 'query',
      query: `SELECT ${fields.join(', ')} FROM User`,
    });
    let info = job;
    while (info.state !== 'JobComplete') {
      if (info.state === 'Failed' || info.state === 'Aborted') throw new Error(`job ${info.state}`);
      await new Promise((r) => setTimeout(r, 50));
      info = await json<JobInfo>(`${base}/jobs/query/${job.id}`, token);
    }
    const t1 = Date.now();
    let locator = '';
    let rows = 0;
    let bytes = 0;
    let pages = 0;
    do {
      const p = await page(
        `${base}/jobs/query/${job.id}/results?maxRecords=${PAGE}${locator ? `&locator=${locator}` : ''}`,
        token,
        gzip,
      );
      rows += p.count;
      bytes += p.bytes;
      pages++;
      locator = p.locator;
    } while (locator !== 'null');
    const t2 = Date.now();
    if (rows !== info.numberRecordsProcessed)
      throw new Error(`read ${rows} rows, job says ${info.numberRecordsProcessed}`);
    return {
      users,
      rows,
      bytes,
      pages,
      baselineRssMB: mb(baseline),
      peakRssMB: mb(peak),
      jobSeconds: (t1 - t0) / 1000,
      downloadSeconds: (t2 - t1) / 1000,
      rowsPerSecond: Math.round(rows / ((t2 - t1) / 1000)),
    };
  } finally {
    clearInterval(sampler);
    await sim.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const gzip = args.includes('--gzip');
  const i = args.indexOf('--users');
  if (i >= 0) {
    process.stdout.write(`${JSON.stringify(await probe(Number(args[i + 1]), gzip))}\n`);
    return;
  }
  const results: Probe[] = [];
  for (const n of SIZES) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, __filename, '--users', String(n), ...(gzip ? ['--gzip'] : [])],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (child.status !== 0) throw new Error(`probe for ${n} users failed`);
    results.push(JSON.parse(child.stdout.trim().split('\n').pop() as string));
  }
  console.log(`User extract over raw HTTP, ${PAGE}-row pages${gzip ? ', gzip' : ''}:`);
  console.table(
    results.map((r) => ({
      users: r.users,
      pages: r.pages,
      'MB sent': mb(r.bytes),
      'baseline RSS MB': r.baselineRssMB,
      'peak RSS MB': r.peakRssMB,
      'job s': r.jobSeconds,
      'download s': r.downloadSeconds,
      'rows/s': r.rowsPerSecond,
    })),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
