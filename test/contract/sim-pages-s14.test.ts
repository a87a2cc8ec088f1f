/**
 * Contract: a Bulk API 2.0 result page is the same bytes whichever way the simulator writes it.
 * Session 14 writes the pages' CSV straight into Buffers (simulator/csv-bytes.ts) instead of
 * building strings; the oracle here is the page writer as it was before (its string path copied
 * below, verbatim but for the fault branches): for random orgs (seed, users, logins, users changed
 * with quotes, delimiters, line breaks, non-ASCII, emoji, lone surrogates, empty strings), random
 * queries (every User field, LoginHistory, UserLogin, the licence and org tables, filters, ORDER BY,
 * LIMIT), delimiters, line endings, page offsets and sizes, gzip or not, and a response that
 * pushes back at random sizes: the same status, headers (Sforce-NumberOfRecords, Sforce-Locator)
 * and body bytes. Randomised: SIM_PAGES_SEED replays.
 */
import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { gunzipSync, createGzip } from 'node:zlib';
import { QueryJob } from '../../simulator/bulk-job';
import { csvLine, csvValue, DELIMITERS, LINE_ENDINGS } from '../../simulator/csv';
import { UserObject } from '../../simulator/fields-user';
import { allObjects } from '../../simulator';
import { KeyPrefix, makeId, orgIdSpace } from '../../simulator/ids';
import { buildLicenceOrg } from '../../simulator/licence-tables';
import { buildOrgTables } from '../../simulator/org-tables';
import { encodeLocator, writePage, type PageRequest } from '../../simulator/page-writer';
import { mulberry32 } from '../../simulator/prng';
import { Schema } from '../../simulator/schema';
import { compileBulkQuery } from '../../simulator/soql-compile';
import { Store } from '../../simulator/store';
import type { DataSource } from '../../simulator/table';

const SEED = Number(process.env.SIM_PAGES_SEED ?? Math.floor(Math.random() * 1_000_000));
console.log(`SIM_PAGES_SEED=${SEED}`);

const schema = new Schema(allObjects(), new Map());

/** Today's page writer (before session 14), the normal path: strings, then the stream encodes them. */
async function oracleWritePage(res: ServerResponse, job: QueryJob, data: DataSource, p: PageRequest): Promise<void> {
  const FLUSH_BYTES = 64 * 1024;
  const count = job.result.count;
  const n = Math.max(0, Math.min(p.max, count - p.offset));
  const next = p.offset + n < count ? encodeLocator(p.offset + n) : 'null';
  res.writeHead(200, {
    ...p.headers,
    'Content-Type': 'text/csv; charset=UTF-8',
    'Sforce-NumberOfRecords': String(n),
    'Sforce-Locator': next,
    ...(p.gzip ? { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' } : {}),
  });
  let out: Writable = res;
  if (p.gzip) {
    const gz = createGzip({ level: 1 });
    gz.pipe(res);
    out = gz;
  }
  const delim = DELIMITERS[job.settings.columnDelimiter];
  const eol = LINE_ENDINGS[job.settings.lineEnding];
  const cols = job.plan.columns;
  let buf = csvLine(
    cols.map((c) => c.name),
    delim,
    eol,
  );
  for (const row of job.result.rows(p.offset, n)) {
    for (let c = 0; c < cols.length; c++) {
      if (c > 0) buf += delim;
      buf += csvValue(cols[c].get(row, data));
    }
    buf += eol;
    if (buf.length >= FLUSH_BYTES) {
      if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
      buf = '';
    }
  }
  if (buf.length > 0) out.write(buf);
  out.end();
}

/** A response that keeps what it is sent, pushing back every `hwm` bytes. */
class Captured extends Writable {
  status = 0;
  headers: Record<string, string> = {};
  private readonly chunks: Buffer[] = [];
  readonly finished: Promise<void>;

  constructor(hwm: number) {
    super({
      highWaterMark: hwm,
      write: (chunk: Buffer, _enc, cb) => {
        this.chunks.push(Buffer.from(chunk));
        // now or on a later turn: the writer must wait for 'drain' either way
        if (this.chunks.length % 3 === 0) setImmediate(cb);
        else cb();
      },
    });
    this.finished = new Promise((resolve) => this.once('finish', () => resolve()));
  }

  writeHead(status: number, headers: Record<string, string>): this {
    this.status = status;
    this.headers = { ...headers };
    return this;
  }

  body(gzip: boolean): Buffer {
    const raw = Buffer.concat(this.chunks);
    return gzip ? gunzipSync(raw) : raw;
  }
}

const STRANGE = [
  'plain',
  'say "hi"',
  '""',
  '"',
  'a,b;c|d^e`f\tg',
  'line\nbreak',
  'cr\r\nlf',
  'Zoë Ångström',
  '北京 太郎',
  'emoji 😀 and "quotes"',
  'lone \ud800 high',
  'lone \udc00 low',
  '\udbff',
  'trailing quote"',
  'é"è',
  ' ',
  '',
];

function randomText(r: () => number): string {
  const parts = 1 + Math.floor(r() * 3);
  let s = '';
  for (let i = 0; i < parts; i++) s += STRANGE[Math.floor(r() * STRANGE.length)];
  return s;
}

function buildOrg(r: () => number) {
  const seed = 1 + Math.floor(r() * 9999);
  const users = 8 + Math.floor(r() * 1500);
  const logins = Math.floor(r() * 1500);
  const nowMs = Date.parse('2026-11-01T00:00:00.000Z');
  const apiUserId = makeId(KeyPrefix.User, 999_999_999, orgIdSpace(seed));
  const tables = buildOrgTables(seed, nowMs, apiUserId);
  const store = new Store(
    { seed, nowMs, apiUserId, org: tables },
    { seed, nowMs, count: logins, users },
    tables,
    UserObject,
    schema,
    buildLicenceOrg(seed, nowMs, apiUserId, tables),
  );
  const ids = store.userIds();
  const changes = Math.floor(r() * 40);
  for (let k = 0; k < changes; k++) {
    const id = ids[Math.floor(r() * ids.length)];
    const fields: Record<string, string | null> = {};
    for (const f of ['Title', 'Department', 'AboutMe', 'FirstName', 'Street', 'CompanyName', 'Division'])
      if (r() < 0.4) fields[f] = r() < 0.1 ? null : randomText(r);
    store.updateUser(id, fields);
  }
  return { seed, users, logins, store };
}

const USER_FIELDS = UserObject.fields.filter((f) => f.type !== 'address').map((f) => f.name);

function randomQuery(r: () => number): string {
  const pick = Math.floor(r() * 9);
  switch (pick) {
    case 0:
      return `SELECT ${USER_FIELDS.join(', ')} FROM User`;
    case 1:
      return (
        `SELECT ${USER_FIELDS.join(', ')} FROM User ` +
        `WHERE IsActive = true AND UserType IN ('Standard', 'PowerPartner')`
      );
    case 2:
      return (
        'SELECT Id, Title, AboutMe, FirstName, Street, Name, Profile.Name, UserRole.Name FROM User ' +
        'ORDER BY Title DESC NULLS LAST, Id'
      );
    case 3:
      return (
        'SELECT Id, UserId, LoginTime, LoginType, SourceIp, LoginUrl, Browser, Platform, Status, Application, ' +
        'ClientVersion, ApiType, ApiVersion, CountryIso, AuthenticationServiceId, LoginGeoId FROM LoginHistory'
      );
    case 4:
      return (
        'SELECT Id, UserId, LoginTime, Status FROM LoginHistory ' +
        'WHERE LoginTime > 2026-06-01T00:00:00Z ORDER BY LoginTime DESC'
      );
    case 5:
      return `SELECT Id, UserId, IsFrozen, IsPasswordLocked, LastModifiedDate FROM UserLogin`;
    case 6:
      return `SELECT Id, AssigneeId, PermissionSetId, SystemModstamp FROM PermissionSetAssignment`;
    case 7:
      return `SELECT Id, Name, ParentRoleId FROM UserRole`;
    default:
      return (
        'SELECT Id, Department, Latitude, Longitude, NumberOfFailedLogins FROM User ' +
        `WHERE Department != null LIMIT ${1 + Math.floor(r() * 500)}`
      );
  }
}

async function complete(j: QueryJob): Promise<void> {
  for (;;) {
    j.poll();
    if (j.finished) return;
    await new Promise((r) => setImmediate(r));
  }
}

async function page(
  writer: typeof writePage,
  j: QueryJob,
  data: DataSource,
  p: PageRequest,
  hwm: number,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const res = new Captured(hwm);
  await writer(res as unknown as ServerResponse, j, data, p);
  await res.finished;
  return { status: res.status, headers: res.headers, body: res.body(p.gzip) };
}

describe('result pages, byte for byte against the string writer', () => {
  const r = mulberry32(SEED);
  for (let round = 0; round < 14; round++) {
    it(`round ${round}`, async () => {
      const o = buildOrg(r);
      const query = randomQuery(r);
      const delims = Object.keys(DELIMITERS);
      const settings = {
        operation: 'query' as const,
        query,
        columnDelimiter: delims[Math.floor(r() * delims.length)],
        lineEnding: (r() < 0.5 ? 'LF' : 'CRLF') as 'LF' | 'CRLF',
        apiVersion: 62,
        createdById: 'u',
      };
      const data = o.store.snapshot();
      const j = new QueryJob(
        'job',
        settings,
        compileBulkQuery(query, schema, 62),
        data,
        {
          pollsBeforeComplete: 1,
          minProcessingMs: 0,
        },
        null,
      );
      await complete(j);
      expect(j.state).toBe('JobComplete');
      const count = j.result.count;
      const what =
        `seed ${SEED} round ${round}: org ${o.seed} (${o.users} users, ${o.logins} logins), ` +
        `${settings.columnDelimiter}/${settings.lineEnding}, ${count} rows: ${query.slice(0, 80)}`;
      // every page of one page size, and a few at random offsets (one at the end: no rows)
      const max = 1 + Math.floor(r() * Math.max(1, count));
      const pages: { offset: number; max: number; walk: boolean }[] = [];
      for (let at = 0; at < count; at += max) pages.push({ offset: at, max, walk: true });
      pages.push({ offset: count, max, walk: false });
      pages.push({ offset: Math.floor(r() * (count + 1)), max: 1 + Math.floor(r() * 3), walk: false });
      let rows = 0;
      for (const { offset, max: pageMax, walk } of pages) {
        const p: PageRequest = {
          offset,
          max: pageMax,
          gzip: r() < 0.5,
          headers: { 'Sforce-Limit-Info': 'api-usage=1/100000' },
          reset: false,
          malformed: false,
        };
        const hwm = 1 + Math.floor(r() * 100_000);
        const got = await page(writePage, j, data, p, hwm);
        const want = await page(oracleWritePage, j, data, p, hwm);
        if (!got.body.equals(want.body)) {
          let at = 0;
          while (at < got.body.length && got.body[at] === want.body[at]) at++;
          throw new Error(
            `${what}: page at ${offset} (max ${p.max}, gzip ${p.gzip}) differs at byte ${at}: ` +
              `${JSON.stringify(got.body.subarray(Math.max(0, at - 40), at + 40).toString())} vs ` +
              `${JSON.stringify(want.body.subarray(Math.max(0, at - 40), at + 40).toString())}`,
          );
        }
        expect({ what, status: got.status, headers: got.headers }).toEqual({
          what,
          status: want.status,
          headers: want.headers,
        });
        if (walk) rows += Number(got.headers['Sforce-NumberOfRecords']);
      }
      expect(rows).toBe(count);
    });
  }
});
