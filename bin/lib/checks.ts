import { Client } from 'pg';
import { authWarnings, defaultJwtAudience, SalesforceAuth, type Session } from '../../connectors/salesforce/auth';
import { PERMISSIONS, statusFilterRefusal, statusNeedsUserLogin } from '../../connectors/salesforce/access';
import { parseExtractorConfig, type UserStatus } from '../../connectors/salesforce/config';
import { createExtractor, type ConnectInfo } from '../../connectors/salesforce/extract';
import { proxyRoute } from '../../connectors/salesforce/proxy';
import type { ConnectorConfig, LoadedConfig } from '../../pipeline/config';
import { silentLogger, scrub } from '../../kernel/logger';
import { createKafka } from '../../kafka/client';
import { registryClient, RegistryHttpError } from '../../schemas/registry-client';

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
  return Promise.race([
    p,
    new Promise<T>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s from ${what}`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Salesforce: login, then what the connector would do with this integration user, decided the way
 * a run decides it (the extractor's connect: API version, describe of User, LoginHistory and
 * UserLogin). A feature that is off because of a missing permission is a warning ("!") naming the
 * permission, since `sync` still imports the users; a run that would refuse is a failure.
 */
export async function checkSalesforce(config: ConnectorConfig, timeoutMs: number): Promise<CheckResult[]> {
  const sf = parseExtractorConfig(config.salesforce);
  const auth = new SalesforceAuth(sf.loginUrl, sf.apiVersion, sf.auth, {
    logger: silentLogger,
    clock: { now: Date.now },
    retryAttempts: 1,
    retryInitialMs: 100,
    proxy: proxyRoute(sf.proxy),
  });
  const results: CheckResult[] = [];
  let session: Session;
  try {
    session = await within(timeoutMs, 'Salesforce', auth.session());
    const aud = sf.auth.flow === 'jwt' ? ` (aud ${sf.auth.audience ?? defaultJwtAudience(sf.loginUrl)})` : '';
    results.push({
      name: 'Salesforce login',
      ok: true,
      detail:
        `${sf.auth.flow} flow${aud} at ${sf.loginUrl}: ` +
        `org ${session.orgId || '(id unknown)'}, instance ${session.instanceUrl}`,
    });
  } catch (err) {
    results.push({ name: 'Salesforce login', ok: false, detail: scrub((err as Error).message, auth.secrets()) });
    results.push({ name: 'Salesforce access', ok: false, detail: 'skipped: no session' });
    return results;
  }
  for (const w of authWarnings(sf.auth))
    results.push({ name: 'Salesforce auth flow', ok: true, warning: true, detail: w });
  const ex = createExtractor({ ...config.salesforce, retryAttempts: 1 }, { logger: silentLogger });
  try {
    const info = await within(timeoutMs, 'Salesforce', ex.connect());
    results.push(...accessResults(info, sf.apiVersion, sf.userStatuses));
  } catch (err) {
    results.push({ name: 'Salesforce access', ok: false, detail: scrub((err as Error).message, auth.secrets()) });
  } finally {
    await ex.close();
  }
  return results;
}

/** One line per object the connector reads: what is on, what is off and which permission turns it on. */
export function accessResults(
  info: ConnectInfo,
  configuredVersion: string,
  statuses: readonly UserStatus[],
): CheckResult[] {
  const out: CheckResult[] = [];
  if (info.apiVersion !== configuredVersion) {
    out.push({
      name: 'Salesforce API version',
      ok: true,
      warning: true,
      detail: `the org serves up to ${info.apiVersion}; using it instead of apiVersion ${configuredVersion}`,
    });
  }
  const missing = (object: string) => info.missingFields.filter((m) => m.object === object).map((m) => m.field);
  const userMissing = missing('User');
  out.push({
    name: 'Salesforce User',
    ok: true,
    warning: userMissing.length > 0,
    detail:
      `${info.userFields.length} fields readable` +
      (userMissing.length > 0
        ? `; not in this org or not visible to the user (imported as empty): ${userMissing.join(', ')}`
        : '') +
      `. Every user is visible only with ${PERMISSIONS.User.replace(/^"API Enabled", and /, '')}`,
  });
  if (info.userFilters.length > 0) {
    out.push({
      name: 'Salesforce user filter',
      ok: true,
      detail: `imports users where ${info.userFilters.join(' AND ')}`,
    });
  }
  const lh = info.features.loginHistory;
  out.push(
    lh.enabled
      ? {
          name: 'Salesforce LoginHistory',
          ok: true,
          detail: `readable: login events and latest-login devices are imported (${info.loginFields.length} fields)`,
        }
      : {
          name: 'Salesforce LoginHistory',
          ok: true,
          warning: true,
          detail: `off: ${lh.reason}. Users are imported without login events and their device fields stay unknown`,
        },
  );
  const ul = info.features.userLogin;
  if (ul.enabled)
    out.push({
      name: 'Salesforce UserLogin',
      ok: true,
      detail: 'readable: frozen and password-locked users are known',
    });
  else if (statusNeedsUserLogin(statuses))
    out.push({ name: 'Salesforce UserLogin', ok: false, detail: statusFilterRefusal(statuses).message });
  else
    out.push({
      name: 'Salesforce UserLogin',
      ok: true,
      warning: true,
      detail: `off: ${ul.reason}. Frozen and password-locked flags stay unknown (not overwritten)`,
    });
  return out;
}

export async function checkKafka(config: LoadedConfig, timeoutMs: number): Promise<CheckResult> {
  const admin = createKafka(config.kafka, silentLogger).admin();
  try {
    await within(timeoutMs, `Kafka (${config.kafka.brokers.join(', ')})`, admin.connect());
    const topics = new Set(await within(timeoutMs, 'Kafka', admin.listTopics()));
    const mine = Object.values(config.topics);
    const missing = mine.filter((t) => !topics.has(t));
    const topicsState =
      missing.length === 0
        ? 'all topics exist'
        : `${missing.length} of ${mine.length} topics will be created on the first run`;
    return {
      name: 'Kafka',
      ok: true,
      detail: `${config.kafka.brokers.join(', ')}: connected; ${topicsState}`,
    };
  } catch (err) {
    return { name: 'Kafka', ok: false, detail: `${config.kafka.brokers.join(', ')}: ${(err as Error).message}` };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function checkRegistry(config: LoadedConfig, timeoutMs: number): Promise<CheckResult> {
  const shown = config.registry.url.replace(/\/\/[^@/]*@/, '//');
  try {
    const subjects = await within(timeoutMs, 'the schema registry', registryClient(config.registry).subjects());
    return {
      name: 'Schema registry',
      ok: true,
      detail: `${shown}: answering, ${Array.isArray(subjects) ? subjects.length : '?'} subjects`,
    };
  } catch (err) {
    const status = err instanceof RegistryHttpError ? err.status : undefined;
    const failed = (detail: string): CheckResult => ({
      name: 'Schema registry',
      ok: false,
      detail: `${shown}: ${detail}`,
    });
    if (status === 401 || status === 403)
      return failed(`HTTP ${status}: check registry.username and registry.password`);
    if (status !== undefined)
      return failed(`HTTP ${status}: is this the Confluent-compatible API (Apicurio: /apis/ccompat/v7)?`);
    return { name: 'Schema registry', ok: false, detail: `${shown}: ${scrub((err as Error).message, config.secrets)}` };
  }
}

export async function checkDatabase(config: LoadedConfig, timeoutMs: number): Promise<CheckResult> {
  const url = config.sink.databaseUrl;
  const embeddedIn = config.sink.embeddedDataDir ? ` in ${config.sink.embeddedDataDir}` : '';
  if (!url)
    return {
      name: 'Database',
      ok: true,
      detail: `no database.url: the sink starts an embedded PostgreSQL${embeddedIn}`,
    };
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
