/**
 * The programmatic face of the Salesforce API simulator: what tests, the demo and the
 * benchmark use to start one, change its data between runs and inject faults.
 * This file is the contract between the simulator (simulator/*) and its users;
 * change it only together with them.
 *
 * What the simulated org serves (all on one base URL, bound to 127.0.0.1):
 *  - OAuth: POST /services/oauth2/token (grant_type password | client_credentials |
 *    urn:ietf:params:oauth:grant-type:jwt-bearer), POST /services/oauth2/revoke,
 *    GET /services/oauth2/userinfo, GET /id/{orgId}/{userId}. Every grant logs in as the
 *    API user (`apiUserId`), who is not one of the generated users.
 *  - REST, API versions 31.0–62.0: GET /services/data, /vXX.X, /vXX.X/limits,
 *    /vXX.X/sobjects[/{name}[/describe]] for User, LoginHistory, UserLogin, UserRole, Profile,
 *    UserLicense, PermissionSetLicense, PermissionSetLicenseAssign, PermissionSet,
 *    PermissionSetGroup, PermissionSetAssignment. Unknown version or object → 404 NOT_FOUND.
 *  - REST query: GET /vXX.X/query?q=SOQL and the nextRecordsUrl pages (/vXX.X/query/{id}-{n}),
 *    `restPageSize` records a page; the SOQL subset and refusals are the Bulk ones below.
 *  - Licence data consistent with the users: UserLicense.UsedLicenses counts the active users
 *    whose profile carries the licence; PermissionSetLicense.UsedLicenses its assignments; each
 *    user holds its profile's permission set; assignments exist only for live users.
 *  - Bulk API 2.0 query jobs (API 47.0+): /vXX.X/jobs/query[/{id}[/results|/resultPages]].
 *    A job goes UploadComplete → InProgress (first status poll) → JobComplete (a later poll,
 *    see `jobPollsBeforeComplete`); its results are a snapshot taken at creation.
 *    Reading results of a job that is not JobComplete → HTTP 412 JOB_NOT_COMPLETE (the
 *    status and code Salesforce's Bulk API 2.0 guide shows); with another API version than
 *    the job's → 409; resultPages below API 58.0 → 404; DELETE of an unfinished job → 400
 *    API_ERROR. Locators are base64 of the next row offset; the last page's is `null`.
 *  - SOQL for Bulk: SELECT paths (child-to-parent, e.g. UserRole.Name,
 *    Profile.UserLicense.LicenseDefinitionKey, Manager.Email) FROM one object, WHERE with
 *    = != < <= > >= LIKE IN NOT IN AND OR NOT, parentheses, semi/anti-joins, date literals
 *    (TODAY, LAST_N_DAYS:n…), ORDER BY, LIMIT. Refused as Salesforce does: compound Address
 *    (400 FUNCTIONALITY_NOT_ENABLED), FIELDS(), aggregates, GROUP BY, OFFSET, TYPEOF,
 *    parent-to-child subqueries (400 API_ERROR), unknown field (400 INVALID_FIELD), unknown
 *    object (400 INVALID_TYPE), bad syntax or AND/OR mixed without parentheses
 *    (400 MALFORMED_QUERY), literal of the wrong type (400 INVALID_QUERY_FILTER_OPERATOR).
 *
 * Frozen users. User has no field for it: IsFrozen lives on UserLogin (one per user). Both
 * shapes real Salesforce allows work here, in Bulk jobs:
 *   (a) a separate job:  SELECT UserId, IsFrozen, IsPasswordLocked FROM UserLogin
 *       (optionally WHERE IsFrozen = true), joined to users by UserId;
 *   (b) a semi-join / anti-join on User:
 *       SELECT … FROM User WHERE Id IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)
 *       SELECT … FROM User WHERE Id NOT IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)
 * User states: 'inactive' = IsActive false; 'frozen' = IsActive true and UserLogin.IsFrozen
 * true; 'active' = IsActive true and not frozen.
 *
 * Generated data: users 0–6 are fixed characters so small orgs hold every hard case
 * (1 "Zoë Ångström", 2 "José Núñez" (frozen; quotes, commas, newlines, CRLF in values),
 * 3 "北京 太郎" (inactive), 4 Automated Process, 5 Site Guest User, 6 Integration User); the
 * rest are random from the seed (~10% inactive, ~3% frozen). Ids sort in generation order.
 * Each seed is its own org: its org Id and every record Id are its own (an org's id space, see
 * ids.ts), so two simulated orgs never share a user Id, as two real orgs never do.
 * LoginHistory LoginTime grows with the index over the ~6 months before `now`.
 *
 * Unconfirmed against a live org (chosen to be plausible; clients should treat any other 4xx
 * the same way): the errorCodes of the 409 (INVALIDJOB), of the Bulk-only refusals
 * (API_ERROR) and of bad locators / maxRecords (INVALID_QUERY_LOCATOR / INVALID_MAXRECORDS).
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
  /** Requests the org's other integrations and people already used today (default 0): a busy org. */
  apiUsedAtStart?: number;
  /** Optional User fields this org lacks (absent from describe; querying them fails
   *  with INVALID_FIELD), e.g. ['FederationIdentifier', 'IndividualId']. */
  missingUserFields?: string[];
  /** Default maxRecords of a result page when the client sends none (default 50000). */
  defaultPageSize?: number;
  /** Credentials the token endpoint accepts; defaults are generated and exposed in
   *  `Simulator.credentials`. */
  credentials?: Partial<SimCredentials>;
  /** Status polls (GET of the job) that answer InProgress before the job reports JobComplete
   *  (default 1: the first poll sees InProgress, the second JobComplete). */
  jobPollsBeforeComplete?: number;
  /** Minimum time (ms) from creation before a job may report JobComplete (default 0). */
  jobMinProcessingMs?: number;
  /** A sandbox org: JWT assertions need aud https://test.salesforce.com (default false: production,
   *  aud https://login.salesforce.com). Either way the org's own URL is refused as an audience. */
  sandbox?: boolean;
  /** Experience Cloud site URLs, also accepted as JWT audiences. */
  jwtSiteUrls?: string[];
  /** Objects the org has (default all: User, LoginHistory, UserLogin, UserRole, Profile,
   *  UserLicense). User is always there. */
  objects?: string[];
  /** System permissions of the API user every grant logs in as (default all). Object access
   *  follows Salesforce: LoginHistory needs ManageUsers or MonitorLoginHistory, UserLogin needs
   *  ManageUsers. An object the user may not read is invisible, as Salesforce hides it: describe
   *  404 NOT_FOUND, absent from describeGlobal, SOQL 400 INVALID_TYPE (semi-joins too). */
  apiUserPermissions?: SimPermission[];
  /** Highest API version the org serves (default 62): /services/data lists up to it and a newer
   *  version's URLs answer 404 NOT_FOUND; fields newer than it are absent. */
  maxApiVersion?: number;
  /** Records per page of a REST query (default 2000, Salesforce's default batch size); a request's
   *  `Sforce-Query-Options: batchSize=N` header (200–2000) asks for smaller pages. */
  restPageSize?: number;
  /** The only User fields the org exposes (default all; Id is always there): the others are absent
   *  from describe and querying them fails with INVALID_FIELD. */
  userFieldsOnly?: string[];
}

/** The system permissions the simulator knows (Salesforce's API names without "Permissions"). */
export type SimPermission =
  'ManageUsers' | 'ViewAllUsers' | 'MonitorLoginHistory' | 'ViewSetup' | 'AssignPermissionSets';
export const SIM_PERMISSIONS: readonly SimPermission[] = [
  'ManageUsers',
  'ViewAllUsers',
  'MonitorLoginHistory',
  'ViewSetup',
  'AssignPermissionSets',
];

/**
 * What an org and its API user must have for an object to be readable. The assignment objects'
 * rules are the object reference's "Special Access Rules" (Summer '20 and later).
 */
export function objectReadable(object: string, perms: ReadonlySet<SimPermission>): boolean {
  if (object === 'LoginHistory') return perms.has('ManageUsers') || perms.has('MonitorLoginHistory');
  if (object === 'UserLogin') return perms.has('ManageUsers');
  if (object === 'PermissionSetLicenseAssign') return perms.has('ViewSetup') || perms.has('AssignPermissionSets');
  if (object === 'PermissionSetAssignment')
    return perms.has('ViewSetup') || perms.has('AssignPermissionSets') || perms.has('ManageUsers');
  return true;
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

/** The password-flow login options for these credentials (the connector's `salesforce.auth` shape). */
export function passwordAuth(
  c: Pick<SimCredentials, 'consumerKey' | 'consumerSecret' | 'username' | 'password' | 'securityToken'>,
) {
  const { consumerKey, consumerSecret, username, password, securityToken } = c;
  return { flow: 'password' as const, consumerKey, consumerSecret, username, password, securityToken };
}

/** One fault to inject. Job faults may name the sObject (`object`, e.g. 'User') whose jobs they hit.
 * Faults fire in order of injection; `times` counts how many
 *  matching requests it hits (default 1). expireSession, requestLimitExceeded and serverError
 *  apply to authenticated /services/data requests (serverError `path`: 'results' = GET
 *  results or resultPages, 'jobs' = any other /jobs/query request, 'any' (default) = all);
 *  jobFails and jobStuck to the next job created; resetMidPage, slowPages and malformedCsv
 *  to GET …/results responses. */
export type SimFault =
  | { kind: 'expireSession' } // next request with the current token gets 401 INVALID_SESSION_ID
  // 403 REQUEST_LIMIT_EXCEEDED: the daily limit ("TotalRequests Limit exceeded."), or with concurrent the
  // short-lived long-running-requests limit ("ConcurrentPerOrgLongTxn")
  | { kind: 'requestLimitExceeded'; times?: number; concurrent?: boolean }
  | { kind: 'serverError'; status?: 500 | 502 | 503; times?: number; path?: 'results' | 'jobs' | 'any' }
  | { kind: 'jobFails'; object?: string } // next query job created ends in state Failed
  // a results response is cut (socket destroyed) after part of its body
  | { kind: 'resetMidPage'; times?: number; object?: string }
  | { kind: 'slowPages'; delayMs: number; times?: number } // results responses wait delayMs before answering
  // a results page carries a broken CSV row (unterminated quote)
  | { kind: 'malformedCsv'; times?: number; object?: string }
  | { kind: 'loginFails'; times?: number } // token requests answer 400 invalid_grant (credentials revoked)
  | { kind: 'jobStuck'; object?: string }; // next query job never leaves InProgress

export interface SimRequestLogEntry {
  method: string;
  path: string; // path and query string
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
  /** Id of the API user every OAuth grant logs in as (not among the generated users). */
  readonly apiUserId?: string;

  /** Data changes between runs. Ids are 18-char User ids (005…). */
  updateUser(id: string, fields: Record<string, string | boolean | number | null>): void;
  // inactive → IsActive=false; frozen → UserLogin.IsFrozen=true (and IsActive=true); active → both cleared.
  // As in Salesforce, the User row (LastModifiedDate, SystemModstamp) changes only when IsActive does:
  // freezing and unfreezing change the UserLogin row alone.
  setUserState(id: string, state: SimUserState): void;
  /** Renames a UserRole (UserRole.Name of its users changes; no User row, no SystemModstamp does). */
  renameRole(id: string, name: string): void;
  deleteUser(id: string): void; // gone from every query (hard delete)
  addUser(fields?: Record<string, string | boolean | number | null>): string; // returns the new Id
  /** Adds `count` login events; `at` (ISO) pins their LoginTime (default: now, i.e. the
   *  simulator's logical clock, see `now()`). Returns their Ids. */
  addLogins(count: number, opts?: { at?: string; userId?: string }): string[];
  /** Ids of users currently in the given states, in Id order. */
  userIds(states?: SimUserState[]): string[];
  /** The User row as Bulk CSV would carry it for the given field list (strings, '' for null).
   *  Fields may be relationship paths (UserRole.Name); throws for unknown fields and Address. */
  userRow(id: string, fields: string[]): Record<string, string>;
  /** Total LoginHistory events (optionally with LoginTime >= sinceIso). */
  loginCount(sinceIso?: string): number;
  /** Every LoginHistory event as Bulk CSV would carry the given fields (strings, '' for null):
   *  the source of truth tests compute expected login tables and device fields from. */
  loginRows(fields: string[]): Record<string, string>[];

  /** Licence data (see licence-tables.ts). Assignment Ids are returned; a duplicate assignment, an
   *  unknown user, licence or permission set throws, as Salesforce refuses it. `licence` and `set`
   *  are an Id, or a DeveloperName (licence) / Name (permission set). */
  assignPermissionSetLicense(userId: string, licence: string): string;
  unassignPermissionSetLicense(assignmentId: string): void;
  assignPermissionSet(userId: string, set: string): string;
  unassignPermissionSet(assignmentId: string): void;
  /** TotalLicenses of a UserLicense (Id or LicenseDefinitionKey) or PermissionSetLicense (Id or DeveloperName). */
  setLicenseTotal(key: string, total: number): void;
  /** Field-level security for the integration user changed: the field hidden from, or shown to, it. */
  setFieldHidden(object: string, field: string, hidden: boolean): void;
  /** Every record of an object as Bulk CSV would carry the given fields (paths allowed): the
   *  source of truth tests compare topics and tables with. */
  objectRows(object: string, fields: string[]): Record<string, string>[];

  /** The org's logical clock (ISO): starts at `now` and advances one second per change
   *  (update, state change, delete, add), so changes carry increasing timestamps
   *  (LastModifiedDate, SystemModstamp, LoginTime of added logins). */
  now?(): string;

  inject(fault: SimFault): void;
  clearFaults(): void;
  /** Every Bulk query job created, in order: its object, SOQL and the rows its result holds (what the
   *  connector read from the org; kept after the job is deleted). */
  readonly queryJobs: readonly { object: string; query: string; rows: () => number }[];
  /** The query jobs not deleted, with their state (what a client left behind). */
  openQueryJobs(): { id: string; object: string; state: string }[];
  /** Every request answered, in order (for assertions). */
  readonly requests: SimRequestLogEntry[];
  /** The org's daily API usage so far: apiUsedAtStart plus the calls counted since. */
  readonly apiUsage: number;

  close(): Promise<void>;
}

export type StartSimulator = (opts?: SimulatorOptions) => Promise<Simulator>;
