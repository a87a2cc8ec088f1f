/**
 * Shared set-up for the extractor's tests against the in-process Salesforce simulator.
 */
import {
  createExtractor,
  type ConnectInfo,
  type ExtractorDeps,
  type ExtractorOptions,
  type SalesforceExtractor,
} from '../../../../connectors/salesforce';
import type { Extraction } from '../../../../connectors/salesforce/row-stream';
import type { Row } from '../../../../connectors/salesforce/csv-page';
import type { FetchFn } from '../../../../connectors/salesforce/http';
import { RAW_ENCODING_HEADER } from '../../../../connectors/salesforce/raw-gzip';
import { createLogger, silentLogger, type Logger } from '../../../../kernel/logger';
import { sleep } from '../../../../kernel/retry';
import type { Simulator, SimulatorOptions } from '../../../../simulator/api';
import { startSimulator } from '../../../../simulator';

/**
 * Starts a simulator. Its data is generated relative to `now`; the extractor uses the real clock
 * (JWT expiry, look-back), so tests that depend on time pass `now: realNow()`.
 */
export async function startSim(opts: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator(opts);
}

/** The current time, to the second, as the simulator's "now". */
export function realNow(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
}

export function passwordAuth(sim: Simulator): ExtractorOptions['auth'] {
  const c = sim.credentials;
  return {
    flow: 'password',
    consumerKey: c.consumerKey,
    consumerSecret: c.consumerSecret,
    username: c.username,
    password: c.password,
    securityToken: c.securityToken,
  };
}

/** Options with fast retries and polls, so fault tests stay quick. */
export function simOptions(sim: Simulator, extra: Partial<ExtractorOptions> = {}): ExtractorOptions {
  return {
    loginUrl: sim.url,
    auth: passwordAuth(sim),
    pollInitialMs: 20,
    pollMaxMs: 100,
    retryInitialMs: 5,
    jobTimeoutMs: 30_000,
    requestTimeoutMs: 10_000,
    ...extra,
  };
}

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

/** A logger that keeps every line, for assertions on warnings and on secrets. */
export function memoryLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { logger: createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as LogLine) }), lines };
}

export function extractor(
  sim: Simulator,
  extra: Partial<ExtractorOptions> = {},
  deps: Partial<ExtractorDeps> = {},
): SalesforceExtractor {
  return createExtractor(simOptions(sim, extra), { logger: memoryLogger().logger, ...deps });
}

export type Drained<R> =
  { rows: Row[]; result: R; error?: undefined } | { rows: Row[]; result?: undefined; error: Error & { code?: string } };

/** Reads the whole rows stream, then settles `done`; never throws. */
export async function drain<R>(ex: Extraction<R>, onRow?: (row: Row, index: number) => void): Promise<Drained<R>> {
  const rows: Row[] = [];
  let streamError: unknown;
  try {
    for await (const row of ex.rows) {
      onRow?.(row as Row, rows.length);
      rows.push(row as Row);
    }
  } catch (err) {
    streamError = err;
  }
  try {
    const result = await ex.done;
    if (streamError) throw new Error(`done resolved although the stream failed: ${String(streamError)}`);
    return { rows, result };
  } catch (err) {
    if (streamError && streamError !== err) {
      throw new Error(`stream and done disagree: ${String(streamError)} vs ${String(err)}`, { cause: err });
    }
    return { rows, error: err as Error & { code?: string } };
  }
}

/** A fetch that records the Content-Encoding of every response. */
export function recordingFetch(): { fetch: FetchFn; encodings: { url: string; encoding: string | null }[] } {
  const encodings: { url: string; encoding: string | null }[] = [];
  return {
    encodings,
    fetch: async (url, init) => {
      const res = await fetch(url, init);
      // gzip kept from fetch's decoder (raw-gzip.ts) or decoded by fetch: the coding Salesforce answered
      encodings.push({ url, encoding: res.headers.get(RAW_ENCODING_HEADER) ?? res.headers.get('content-encoding') });
      return res;
    },
  };
}

export const byId = (a: Row, b: Row) => (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0);

/**
 * Every User row of a seeded simulator org, as the extractor reads them (a full users read), and
 * what connecting told: the input of the equivalence tests that compare a hot path with the code
 * it replaced on the simulator's users.
 */
export async function simUserRows(opts: {
  users: number;
  seed: number;
  now: string;
}): Promise<{ rows: Record<string, string>[]; info: ConnectInfo }> {
  const sim = await startSim({ users: opts.users, logins: 0, now: opts.now, seed: opts.seed });
  const ex = createExtractor(
    { loginUrl: sim.url, auth: passwordAuth(sim), loginLookbackDays: 400, apiBudgetShare: 1 },
    { logger: silentLogger, clock: { now: () => Date.parse(opts.now), sleep } },
  );
  try {
    const info = await ex.connect();
    const rows: Record<string, string>[] = [];
    const ux = ex.users();
    for await (const row of ux.rows as AsyncIterable<Record<string, string>>) rows.push(row);
    await ux.done;
    return { rows, info };
  } finally {
    await ex.close();
    await sim.close();
  }
}
