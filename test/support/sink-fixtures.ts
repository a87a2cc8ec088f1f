/**
 * Records for the sink's fixture streams: complete, schema-valid Neurons users and login events
 * with deterministic values, so a test can state exactly which row it expects.
 */
export type UserRecord = Record<string, unknown> & { id: string };
export type LoginRecord = Record<string, unknown> & { id: string; userId: string; loginTime: number };

const RUN = { orgId: '00D000000000001EAA', connectorName: 'sink-test', runId: 'run-1', extractedAt: 1_735_000_000_000 };

/** An 18-character Salesforce-looking User Id from a small number. */
export function userId(n: number): string {
  return `005${String(n).padStart(12, '0')}AAA`;
}

export function loginId(n: number): string {
  return `0Ya${String(n).padStart(12, '0')}AAA`;
}

export function user(id: string, overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id,
    name: `User ${id.slice(-6)}`,
    firstName: 'Ada',
    lastName: `Lovelace ${id.slice(-6)}`,
    username: `${id.toLowerCase()}@example.com`,
    email: `${id.toLowerCase()}@example.com`,
    title: 'Engineer',
    managerId: null,
    preferences: { HideS1BrowserUI: true, ShowTitleToExternalUsers: false },
    permissions: { MarketingUser: false },
    isActive: true,
    isFrozen: false,
    status: 'active',
    latitude: 48.8566,
    longitude: 2.3522,
    createdAt: 1_600_000_000_123,
    recordUrl: `https://example.my.salesforce.com/${id}`,
    ...RUN,
    ...overrides,
  };
}

export function login(id: string, uid: string, loginTime: number, overrides: Partial<LoginRecord> = {}): LoginRecord {
  return {
    id,
    userId: uid,
    loginTime,
    loginType: 'Application',
    sourceIp: '203.0.113.7',
    browser: 'Chrome 124',
    platform: 'Mac OSX',
    status: 'Success',
    optionsIsGet: false,
    optionsIsPost: true,
    ...RUN,
    ...overrides,
  };
}
