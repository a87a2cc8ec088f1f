/**
 * startSimulator: builds a simulated org from the options and serves it on 127.0.0.1.
 * See api.ts for the contract and salesforce.md for the behaviour it follows.
 */
import { generateKeyPairSync, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  objectReadable,
  SIM_PERMISSIONS,
  SimCredentials,
  SimRequestLogEntry,
  Simulator,
  SimulatorOptions,
  StartSimulator,
} from './api';
import { plainValue } from './csv';
import { LoginHistoryObject, ProfileObject, UserLicenseObject, UserLoginObject, UserRoleObject } from './fields-other';
import { UserObject } from './fields-user';
import { LICENCE_OBJECTS } from './fields-licence';
import { buildLicenceOrg } from './licence-tables';
import { QueryCursors } from './routes-query';
import { Faults } from './faults';
import { KeyPrefix, makeId, orgIdSpace } from './ids';
import { jwtAudiences, OAuth } from './oauth';
import { buildOrgTables } from './org-tables';
import { QueryJobs } from './routes-jobs';
import { MAX_VERSION, MIN_VERSION } from './routes-data';
import { Schema } from './schema';
import { createHandler, ServerDeps } from './server';
import { resolvePath } from './soql-compile';
import { Store } from './store';

export type { Simulator, SimulatorOptions, SimFault, SimCredentials, SimUserState, SimPermission } from './api';
export { passwordAuth } from './api';

/** The API (integration) user every grant logs in as. It is not one of the generated users. */
const API_USER_INDEX = 999_999_999;

function defaultCredentials(privatePem: string, given: Partial<SimCredentials>): SimCredentials {
  const rnd = (n: number): string => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x');
  return {
    consumerKey: given.consumerKey ?? `3MVG9${rnd(60)}`,
    consumerSecret: given.consumerSecret ?? randomBytes(32).toString('hex').toUpperCase(),
    username: given.username ?? 'integration@acme-sim.example.com',
    password: given.password ?? `Sim-${rnd(12)}`,
    securityToken: given.securityToken ?? rnd(18),
    jwtPrivateKeyPem: privatePem,
  };
}

/**
 * What the API user sees: the org's objects it may read and the User fields the org exposes, as
 * a Schema for the REST and Bulk routes (the store keeps the full one to generate data).
 */
function orgView(opts: SimulatorOptions, all: string[], missing: Set<string>): { schema: Schema; maxVersion: number } {
  const maxVersion = opts.maxApiVersion ?? MAX_VERSION;
  if (!Number.isInteger(maxVersion) || maxVersion < MIN_VERSION || maxVersion > MAX_VERSION) {
    throw new Error(`simulator: maxApiVersion must be an integer from ${MIN_VERSION} to ${MAX_VERSION}`);
  }
  const objects = new Set(opts.objects ?? all);
  for (const o of objects) if (!all.includes(o)) throw new Error(`simulator: objects: unknown object ${o}`);
  objects.add('User');
  const perms = new Set(opts.apiUserPermissions ?? SIM_PERMISSIONS);
  for (const p of perms)
    if (!SIM_PERMISSIONS.includes(p)) throw new Error(`simulator: apiUserPermissions: unknown ${p}`);
  const readable = new Set([...objects].filter((o) => objectReadable(o, perms)));
  const hidden = new Set(missing);
  if (opts.userFieldsOnly) {
    const only = new Set([...opts.userFieldsOnly, 'Id']);
    for (const f of only)
      if (!UserObject.fields.some((x) => x.name === f))
        throw new Error(`simulator: userFieldsOnly: unknown User field ${f}`);
    for (const f of UserObject.fields) if (!only.has(f.name)) hidden.add(f.name);
  }
  return { schema: new Schema(allObjects(), new Map([['User', hidden]]), readable), maxVersion };
}

/** Every object the simulated org has (User, LoginHistory, UserLogin, roles, profiles, licences). */
export const allObjects = () => [
  UserObject,
  LoginHistoryObject,
  UserLoginObject,
  UserRoleObject,
  ProfileObject,
  UserLicenseObject,
  ...LICENCE_OBJECTS,
];

function positiveInt(name: string, v: number, min = 0): number {
  if (!Number.isInteger(v) || v < min) throw new Error(`simulator: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export const startSimulator: StartSimulator = async (opts: SimulatorOptions = {}) => {
  const seed = positiveInt('seed', opts.seed ?? 1);
  const users = positiveInt('users', opts.users ?? 200);
  const logins = positiveInt('logins', opts.logins ?? 1000);
  const nowMs = Date.parse(opts.now ?? '2026-11-01T00:00:00.000Z');
  if (Number.isNaN(nowMs)) throw new Error(`simulator: bad now ${opts.now}`);
  const missing = new Set(opts.missingUserFields ?? []);
  for (const m of missing) {
    const f = UserObject.fields.find((x) => x.name === m);
    if (!f || !f.nillable) throw new Error(`simulator: missingUserFields: ${m} is not an optional User field`);
  }

  let privatePem = opts.credentials?.jwtPrivateKeyPem;
  if (!privatePem) {
    privatePem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
  }
  const publicPem = createPublicKey(createPrivateKey(privatePem)).export({ type: 'spki', format: 'pem' }).toString();
  const credentials = defaultCredentials(privatePem, opts.credentials ?? {});

  // each org (seed) has its own Id and its own record Ids, as real orgs do
  const orgId = makeId(KeyPrefix.Organization, 0, orgIdSpace(seed));
  const apiUser = {
    id: makeId(KeyPrefix.User, API_USER_INDEX, orgIdSpace(seed)),
    username: credentials.username,
    name: 'Integration API User',
    email: 'integration@acme-sim.example.com',
  };
  const allObjects = [
    UserObject,
    LoginHistoryObject,
    UserLoginObject,
    UserRoleObject,
    ProfileObject,
    UserLicenseObject,
    ...LICENCE_OBJECTS,
  ];
  const schema = new Schema(allObjects, new Map([['User', missing]]));
  const view = orgView(
    opts,
    allObjects.map((o) => o.name),
    missing,
  );
  const org = buildOrgTables(seed, nowMs, apiUser.id);
  const store = new Store(
    { seed, nowMs, apiUserId: apiUser.id, org },
    { seed, nowMs, count: logins, users },
    org,
    UserObject,
    schema,
    buildLicenceOrg(seed, nowMs, apiUser.id, org),
  );
  const faults = new Faults();
  const log: SimRequestLogEntry[] = [];
  const usage = {
    used: positiveInt('apiUsedAtStart', opts.apiUsedAtStart ?? 0),
    max: positiveInt('dailyApiLimit', opts.dailyApiLimit ?? 100_000, 1),
    jobsCreated: 0,
  };
  const jobs = new QueryJobs({
    store,
    schema: view.schema,
    faults,
    apiUserId: apiUser.id,
    timing: {
      pollsBeforeComplete: positiveInt('jobPollsBeforeComplete', opts.jobPollsBeforeComplete ?? 1),
      minProcessingMs: positiveInt('jobMinProcessingMs', opts.jobMinProcessingMs ?? 0),
    },
    defaultPageSize: positiveInt('defaultPageSize', opts.defaultPageSize ?? 50_000, 1),
  });

  let url = '';
  let oauth: OAuth | null = null;
  const deps: ServerDeps = {
    url: () => url,
    orgId,
    apiUser,
    oauth: () => oauth as OAuth,
    schema: view.schema,
    jobs,
    faults,
    usage,
    log,
    maxVersion: view.maxVersion,
    queries: new QueryCursors({
      store,
      schema: view.schema,
      pageSize: positiveInt('restPageSize', opts.restPageSize ?? 2000, 1),
    }),
  };
  const server = createServer(createHandler(deps));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  oauth = new OAuth(
    credentials,
    publicPem,
    url,
    orgId,
    apiUser.id,
    jwtAudiences(opts.sandbox ?? false, opts.jwtSiteUrls ?? []),
  );

  const sim: Simulator = {
    url,
    credentials,
    orgId,
    jwtPublicKeyPem: publicPem,
    apiUserId: apiUser.id,
    updateUser: (id, fields) => store.updateUser(id, fields),
    setUserState: (id, state) => store.setUserState(id, state),
    deleteUser: (id) => store.deleteUser(id),
    renameRole: (id, name) => store.renameRole(id, name),
    addUser: (fields) => store.addUser(fields),
    addLogins: (count, o) => store.addLogins(count, o),
    userIds: (states) => store.userIds(states),
    userRow(id, fields) {
      const data = store.snapshot();
      const row = data.users.byId(id);
      if (!row) throw new Error(`simulator: no live user ${id}`);
      const out: Record<string, string> = {};
      for (const f of fields) {
        const p = resolvePath(schema, 'User', MAX_VERSION, f);
        if (p.field.type === 'address') throw new Error(`simulator: ${f} is compound; Bulk CSV never carries it`);
        out[f] = plainValue(p.get(row, data));
      }
      return out;
    },
    loginCount: (since) => store.loginCount(since),
    assignPermissionSetLicense: (userId, licence) => store.assign('PermissionSetLicenseAssign', userId, licence),
    unassignPermissionSetLicense: (id) => store.unassign('PermissionSetLicenseAssign', id),
    assignPermissionSet: (userId, set) => store.assign('PermissionSetAssignment', userId, set),
    unassignPermissionSet: (id) => store.unassign('PermissionSetAssignment', id),
    setLicenseTotal: (key, total) => store.setLicenseTotal(key, total),
    setFieldHidden: (object, field, hidden) => view.schema.setFieldHidden(object, field, hidden),
    objectRows(object, fields) {
      const data = store.snapshot();
      const table = data.table(schema.object(object, MAX_VERSION)?.name ?? object);
      const paths = fields.map((f) => resolvePath(schema, object, MAX_VERSION, f));
      const out: Record<string, string>[] = [];
      for (let pos = 0; pos < table.size(); pos++) {
        const row = table.row(pos);
        if (!row) continue;
        const r: Record<string, string> = {};
        paths.forEach((p, k) => (r[fields[k]] = plainValue(p.get(row, data))));
        out.push(r);
      }
      return out;
    },
    loginRows(fields) {
      const logins = store.snapshot().logins;
      const out: Record<string, string>[] = [];
      for (let pos = 0; pos < logins.size(); pos++) {
        const row = logins.row(pos)!;
        const r: Record<string, string> = {};
        for (const f of fields) r[f] = plainValue(row.get(f));
        out.push(r);
      }
      return out;
    },
    inject: (fault) => faults.inject(fault),
    clearFaults: () => faults.clear(),
    queryJobs: jobs.log,
    openQueryJobs: () => jobs.open(),
    requests: log,
    get apiUsage() {
      return usage.used;
    },
    now: () => new Date(store.now()).toISOString(),
    close: () =>
      new Promise<void>((resolve) => {
        jobs.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return sim;
};
