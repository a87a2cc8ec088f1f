/**
 * The programmatic face of the Salesforce API simulator: what tests, the demo and the
 * benchmark use to start one, change its data between runs and inject faults.
 * This file is the contract between the simulator (test/simulator/*) and its users;
 * change it only together with them.
 */

/** Status of a simulated user as the connector's "User status" option sees it. */
export type SimUserState = 'active' | 'inactive' | 'frozen';

export interface SimulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Seed of the deterministic data generator (default 1). Same seed, same org. */
  seed?: number;
  /** Number of User records generated (default 200). */
  users?: number;
  /** Number of LoginHistory records generated, spread over the last ~6 months (default 1000). */
  logins?: number;
  /** Fixed "now" for the generated data, ISO-8601 (default 2026-11-01T00:00:00.000Z). */
  now?: string;
  /** Org-wide daily API request budget reported in Sforce-Limit-Info (default 100000). */
  dailyApiLimit?: number;
  /** Optional User fields this org lacks (absent from describe; querying them fails
   *  with INVALID_FIELD), e.g. ['FederationIdentifier', 'IndividualId']. */
  missingUserFields?: string[];
  /** Default maxRecords of a result page when the client sends none (default 50000). */
  defaultPageSize?: number;
  /** Credentials the token endpoint accepts; defaults are generated and exposed in
   *  `Simulator.credentials`. */
  credentials?: Partial<SimCredentials>;
}

export interface SimCredentials {
  consumerKey: string;
  consumerSecret: string;
  username: string;
  password: string;
  securityToken: string;
  /** PEM RS256 private key matching the public key the simulator verifies JWTs with. */
  jwtPrivateKeyPem: string;
}

/** One fault to inject. Faults fire in order of injection; `times` counts how many
 *  matching requests it hits (default 1). */
export type SimFault =
  | { kind: 'expireSession' }                                   // next request with the current token gets 401 INVALID_SESSION_ID
  | { kind: 'requestLimitExceeded'; times?: number }            // 403 REQUEST_LIMIT_EXCEEDED
  | { kind: 'serverError'; status?: 500 | 502 | 503; times?: number; path?: 'results' | 'jobs' | 'any' }
  | { kind: 'jobFails' }                                        // next query job created ends in state Failed
  | { kind: 'resetMidPage'; times?: number }                    // a results response is cut (socket destroyed) after part of its body
  | { kind: 'slowPages'; delayMs: number; times?: number }      // results responses wait delayMs before answering
  | { kind: 'malformedCsv'; times?: number }                    // a results page carries a broken CSV row (unterminated quote)
  | { kind: 'jobStuck' };                                       // next query job never leaves InProgress

export interface SimRequestLogEntry {
  method: string;
  path: string;       // path and query string
  status: number;
}

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:PORT. It is both the login URL and the instance URL. */
  readonly url: string;
  readonly credentials: SimCredentials;
  /** 18-char org id (00D…). */
  readonly orgId: string;
  /** Public key PEM used to verify JWT bearer assertions. */
  readonly jwtPublicKeyPem: string;

  /** Data changes between runs. Ids are 18-char User ids (005…). */
  updateUser(id: string, fields: Record<string, string | boolean | number | null>): void;
  setUserState(id: string, state: SimUserState): void;   // inactive → IsActive=false; frozen → UserLogin.IsFrozen=true
  deleteUser(id: string): void;                            // gone from every query (hard delete)
  addUser(fields?: Record<string, string | boolean | number | null>): string;  // returns the new Id
  /** Adds `count` login events; `at` (ISO) pins their LoginTime (default: now). Returns their Ids. */
  addLogins(count: number, opts?: { at?: string; userId?: string }): string[];
  /** Ids of users currently in the given states, in Id order. */
  userIds(states?: SimUserState[]): string[];
  /** The User row as Bulk CSV would carry it for the given field list (strings, '' for null). */
  userRow(id: string, fields: string[]): Record<string, string>;
  /** Total LoginHistory events (optionally with LoginTime >= sinceIso). */
  loginCount(sinceIso?: string): number;

  inject(fault: SimFault): void;
  clearFaults(): void;
  /** Every request answered, in order (for assertions). */
  readonly requests: SimRequestLogEntry[];
  /** API calls counted against the daily budget so far. */
  readonly apiUsage: number;

  close(): Promise<void>;
}

export type StartSimulator = (opts?: SimulatorOptions) => Promise<Simulator>;
