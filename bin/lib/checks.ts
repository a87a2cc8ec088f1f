import { Client } from 'pg';
import { authWarnings, SalesforceAuth, type Session } from '../../connectors/salesforce/auth';
import { parseExtractorConfig } from '../../connectors/salesforce/config';
import type { ConnectorConfig } from '../../pipeline/config';
import { silentLogger, scrub } from '../../pipeline/core/logger';
import { createKafka } from '../../pipeline/kafka/client';

/** One check's outcome, printed as ✓/✗ with a detail line. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** Passed, but something needs the operator's attention (printed with "!"). */
  warning?: boolean;
  detail: string;
}

/** Gives a step at most `ms` before it counts as failed (a dead broker must not hang `check`). */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s from ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

/**
 * Salesforce: login, then describe of User, LoginHistory and UserLogin. The connector reads
 * LoginHistory and UserLogin with Bulk queries; a user without the permission for them
 * (typically "Manage Users" or "View All Users") sees them as not queryable or gets 403/404.
 */
export async function checkSalesforce(config: ConnectorConfig, timeoutMs: number): Promise<CheckResult[]> {
  const sf = parseExtractorConfig(config.salesforce);
  const auth = new SalesforceAuth(sf.loginUrl, sf.apiVersion, sf.auth, { logger: silentLogger, clock: { now: Date.now }, retryAttempts: 1, retryInitialMs: 100 });
  const results: CheckResult[] = [];
  let session: Session;
  try {
    session = await within(timeoutMs, 'Salesforce', auth.session());
    results.push({ name: 'Salesforce login', ok: true, detail: `${sf.auth.flow} flow at ${sf.loginUrl}: org ${session.orgId || '(id unknown)'}, instance ${session.instanceUrl}` });
    for (const w of authWarnings(sf.auth)) results.push({ name: 'Salesforce auth flow', ok: true, warning: true, detail: w });
  } catch (err) {
    results.push({ name: 'Salesforce login', ok: false, detail: scrub((err as Error).message, auth.secrets()) });
    for (const o of ['User', 'LoginHistory', 'UserLogin']) results.push({ name: `Salesforce describe ${o}`, ok: false, detail: 'skipped: no session' });
    return results;
  }
  const why: Record<string, string> = {
    User: 'the users to import',
    LoginHistory: 'login history (needs "Manage Users" or "View All Users")',
    UserLogin: 'frozen and locked users (needs "Manage Users" or "View All Users")',
  };
  for (const object of ['User', 'LoginHistory', 'UserLogin']) {
    const name = `Salesforce describe ${object}`;
    try {
      const res = await within(timeoutMs, 'Salesforce', fetch(`${session.instanceUrl}/services/data/v${sf.apiVersion}/sobjects/${object}/describe`, { headers: { authorization: `Bearer ${session.accessToken}`, accept: 'application/json' } }));
      const body = (await res.json().catch(() => null)) as { queryable?: boolean; fields?: unknown[] } | { errorCode?: string; message?: string }[] | null;
      if (!res.ok) {
        const e = Array.isArray(body) ? body[0] : undefined;
        results.push({ name, ok: false, detail: `HTTP ${res.status} ${e?.errorCode ?? ''} ${e?.message ?? ''}`.trim() + `: the connector cannot read ${why[object]}` });
      } else if (!body || Array.isArray(body) || body.queryable !== true) {
        results.push({ name, ok: false, detail: `not queryable for this user: the connector cannot read ${why[object]}` });
      } else {
        results.push({ name, ok: true, detail: `queryable, ${body.fields?.length ?? 0} fields visible` });
      }
    } catch (err) {
      results.push({ name, ok: false, detail: scrub((err as Error).message, auth.secrets()) });
    }
  }
  return results;
}

export async function checkKafka(config: ConnectorConfig, timeoutMs: number): Promise<CheckResult> {
  const admin = createKafka(config.kafka, silentLogger).admin();
  try {
    await within(timeoutMs, `Kafka (${config.kafka.brokers.join(', ')})`, admin.connect());
    const topics = new Set(await within(timeoutMs, 'Kafka', admin.listTopics()));
    const mine = Object.values(config.topics);
    const missing = mine.filter((t) => !topics.has(t));
    return { name: 'Kafka', ok: true, detail: `${config.kafka.brokers.join(', ')}: connected; ${missing.length === 0 ? 'all topics exist' : `${missing.length} of ${mine.length} topics will be created on the first run`}` };
  } catch (err) {
    return { name: 'Kafka', ok: false, detail: `${config.kafka.brokers.join(', ')}: ${(err as Error).message}` };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function checkRegistry(config: ConnectorConfig, timeoutMs: number): Promise<CheckResult> {
  const { url, auth } = config.registry;
  const shown = url.replace(/\/\/[^@/]*@/, '//');
  try {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    const res = await within(timeoutMs, 'the schema registry', fetch(`${url.replace(/\/$/, '')}/subjects`, { headers }));
    if (res.status === 401 || res.status === 403) return { name: 'Schema registry', ok: false, detail: `${shown}: HTTP ${res.status}: check registry.username and registry.password` };
    if (!res.ok) return { name: 'Schema registry', ok: false, detail: `${shown}: HTTP ${res.status}: is this the Confluent-compatible API (Apicurio: /apis/ccompat/v7)?` };
    const subjects = (await res.json()) as unknown[];
    return { name: 'Schema registry', ok: true, detail: `${shown}: answering, ${Array.isArray(subjects) ? subjects.length : '?'} subjects` };
  } catch (err) {
    return { name: 'Schema registry', ok: false, detail: `${shown}: ${(err as Error).message}` };
  }
}

export async function checkDatabase(config: ConnectorConfig, timeoutMs: number): Promise<CheckResult> {
  const url = config.sink.databaseUrl;
  if (!url) return { name: 'Database', ok: true, detail: `no database.url: the sink starts an embedded PostgreSQL${config.sink.embeddedDataDir ? ` in ${config.sink.embeddedDataDir}` : ''}` };
  const where = (() => {
    try {
      const u = new URL(url);
      return `${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      return 'database.url';
    }
  })();
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ v: string }>("select current_setting('server_version') as v");
    return { name: 'Database', ok: true, detail: `${where}: connected, PostgreSQL ${rows[0].v}` };
  } catch (err) {
    return { name: 'Database', ok: false, detail: `${where}: ${scrub((err as Error).message, config.secrets)}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}
