import { createUserStage } from '../../../pipeline/stages/user';
import { parseMappingCsv } from '../../../schemas/mapping';
import { RecordError } from '../../../kernel/errors';
import { catalog, ctx, frozen } from './helpers';

const stage = createUserStage(catalog.userMapping);
const ID = '005Hn00000AbCdEIAV';
const base = { Id: ID, IsActive: 'true' };

describe('user stage: raw User row -> Neurons user record', () => {
  test('a minimal row gives every schema field, null where the org sent nothing', () => {
    const result = stage(frozen(base), ctx);
    if (!result.ok) throw result.error;
    const fieldNames = (catalog.schemas.userValue as { fields: { name: string }[] }).fields.map((f) => f.name);
    expect(Object.keys(result.record).sort()).toEqual([...fieldNames].sort());
    expect(result.record).toMatchObject({
      id: ID,
      isActive: true,
      status: 'active',
      name: null,
      preferences: null,
      permissions: null,
      deviceBrowser: null,
    });
  });

  // [case, extra columns, expected subset of the record]
  const cases: [string, Record<string, string>, Record<string, unknown>][] = [
    ['empty string is null', { Title: '' }, { title: null }],
    ['text is kept byte for byte', { AboutMe: ' line 1\nline "2", ✓ ' }, { aboutMe: ' line 1\nline "2", ✓ ' }],
    [
      'relationship columns keep dotted names',
      { 'UserRole.Name': 'CEO', 'Profile.UserLicense.LicenseDefinitionKey': 'SFDC' },
      { userRoleName: 'CEO', userLicenseKey: 'SFDC' },
    ],
    [
      'booleans',
      { ReceivesInfoEmails: 'true', ForecastEnabled: 'false' },
      { receivesInfoEmails: true, forecastEnabled: false },
    ],
    ['doubles', { Latitude: '51.507351', Longitude: '-0.1277583' }, { latitude: 51.507351, longitude: -0.1277583 }],
    [
      'datetimes become epoch ms',
      { LastLoginDate: '2024-05-02T07:30:00.000Z' },
      { lastLoginAt: Date.UTC(2024, 4, 2, 7, 30) },
    ],
    ['record URL from instance URL and Id', {}, { recordUrl: `https://acme.my.salesforce.com/${ID}` }],
    [
      'metadata from the context',
      {},
      { orgId: ctx.orgId, connectorName: 'acme-salesforce', runId: 'run-1', extractedAt: 1714636800000 },
    ],
    [
      'preferences: a known UserPreferences* column is its typed field',
      { UserPreferencesHideS1BrowserUI: 'true', UserPreferencesTaskRemindersCheckboxDefault: 'false' },
      { prefHideS1BrowserUI: true, prefTaskRemindersCheckboxDefault: false, preferences: null },
    ],
    [
      'preferences: an unknown column goes to the fallback map, by the rest of its name',
      { UserPreferencesHideS1BrowserUI: 'true', UserPreferencesX: 'true' },
      { prefHideS1BrowserUI: true, preferences: { X: true } },
    ],
    [
      'preferences: empty values are null or left out',
      { UserPreferencesHideS1BrowserUI: '', UserPreferencesX: '', UserPreferencesY: 'false' },
      { prefHideS1BrowserUI: null, preferences: { Y: false } },
    ],
    [
      'permissions: works for any org',
      { UserPermissionsMarketingUser: 'true', UserPermissionsSomethingNew: 'false' },
      { permMarketingUser: true, permissions: { SomethingNew: false } },
    ],
    ['status: active', { 'UserLogin.IsFrozen': 'false' }, { status: 'active', isFrozen: false }],
    ['status: frozen', { 'UserLogin.IsFrozen': 'true' }, { status: 'frozen', isFrozen: true }],
    [
      'status: inactive beats frozen',
      { IsActive: 'false', 'UserLogin.IsFrozen': 'true' },
      { status: 'inactive', isActive: false },
    ],
    [
      'status: frozen unknown (UserLogin not readable) -> from IsActive',
      { 'UserLogin.IsFrozen': '' },
      { status: 'active', isFrozen: null },
    ],
    [
      'a column the row lacks (field missing in this org) is null',
      {},
      { federationIdentifier: null, individualId: null },
    ],
    ['unmapped columns are ignored', { SomeCustomField__c: 'x' }, { id: ID }],
  ];
  test.each(cases)('%s', (_name, extra, expected) => {
    const result = stage(frozen({ ...base, ...extra }), ctx);
    if (!result.ok) throw result.error;
    expect(result.record).toMatchObject(expected);
  });

  test('instance URL with a trailing slash still gives one slash', () => {
    const result = stage(base, { ...ctx, instanceUrl: 'https://acme.my.salesforce.com/' });
    expect(result.ok && result.record.recordUrl).toBe(`https://acme.my.salesforce.com/${ID}`);
  });

  test('map keys come out sorted whatever the column order (stable bytes)', () => {
    const result = stage({ ...base, UserPermissionsZ: 'true', UserPermissionsA: 'false' }, ctx);
    expect(result.ok && Object.keys(result.record.permissions as object)).toEqual(['A', 'Z']);
  });

  // [case, columns, field, value, message]
  const failures: [string, Record<string, string>, string, string | undefined, string][] = [
    [
      'bad double',
      { ...base, Latitude: 'north' },
      'Latitude',
      'north',
      'Latitude -> latitude: not a decimal number (value "north")',
    ],
    [
      'bad boolean',
      { ...base, ForecastEnabled: 'yes' },
      'ForecastEnabled',
      'yes',
      'ForecastEnabled -> forecastEnabled: not a boolean (true or false) (value "yes")',
    ],
    [
      'bad datetime',
      { ...base, CreatedDate: '01/02/2020' },
      'CreatedDate',
      '01/02/2020',
      'CreatedDate -> createdAt: not an ISO-8601 datetime with a zone (e.g. ' +
        '2024-05-01T10:20:30.000Z) (value "01/02/2020")',
    ],
    [
      'bad id',
      { ...base, ManagerId: 'nobody' },
      'ManagerId',
      'nobody',
      'ManagerId -> managerId: not a 15- or 18-character Salesforce id (value "nobody")',
    ],
    [
      'bad typed flag names its column',
      { ...base, UserPermissionsMarketingUser: 'maybe' },
      'UserPermissionsMarketingUser',
      'maybe',
      'UserPermissionsMarketingUser -> permMarketingUser: not a boolean (true or false) (value "maybe")',
    ],
    [
      'bad map entry names its column',
      { ...base, UserPermissionsBrandNew: 'maybe' },
      'UserPermissionsBrandNew',
      'maybe',
      'UserPermissionsBrandNew -> permissions: not a boolean (true or false) (value "maybe")',
    ],
    ['empty required Id', { ...base, Id: '' }, 'Id', '', 'Id -> id: required value is empty (value "")'],
    [
      'missing required IsActive',
      { Id: ID },
      'IsActive',
      undefined,
      'IsActive -> isActive: required column is missing (value missing)',
    ],
    [
      'bad frozen flag',
      { ...base, 'UserLogin.IsFrozen': 'TRUE' },
      'UserLogin.IsFrozen',
      'TRUE',
      'UserLogin.IsFrozen -> isFrozen: not a boolean (true or false) (value "TRUE")',
    ],
  ];
  test.each(failures)('%s -> RecordError with field, value and reason', (_name, row, field, value, message) => {
    const result = stage(frozen(row), ctx);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(RecordError);
    expect(result.error).toMatchObject({ field, value, message, code: 'RECORD_INVALID', retriable: false });
  });

  test('a very long bad value is cut in the message but kept whole in the error', () => {
    const long = 'x'.repeat(1000);
    const result = stage({ ...base, Latitude: long }, ctx);
    expect(!result.ok && result.error.value).toBe(long);
    expect(!result.ok && result.error.message.length).toBeLessThan(300);
  });

  test('adding an attribute is a CSV edit: a new mapping row is picked up with its type', () => {
    const csv =
      'source_object,source_field,target,type,required,notes\n' +
      'User,Id,id,id,yes,Id\n' +
      'User,NumberOfFailedLogins,failedLogins,int,no,Failed logins\n';
    const custom = createUserStage(parseMappingCsv(csv));
    expect(custom({ Id: ID, NumberOfFailedLogins: '3' }, ctx)).toEqual({
      ok: true,
      record: { id: ID, failedLogins: 3 },
    });
  });

  test('a mapping without a required id is refused when the stage is built', () => {
    const csv = 'source_object,source_field,target,type,required,notes\nUser,Name,name,string,no,Name\n';
    expect(() => createUserStage(parseMappingCsv(csv))).toThrow('the user mapping needs a required "id" target');
  });

  const badMappings: [string, string][] = [
    ['Connector,nope,nope,string,yes,x', 'Connector fields are instanceUrl, orgId, connectorName, runId, extractedAt'],
    ['Connector,extractedAt,at,string,yes,x', 'context property extractedAt holds a number, not a string'],
    ['LoginHistory,Browser,b,string,yes,x', 'a LoginHistory field cannot be required in a User mapping'],
  ];
  test.each(badMappings)('mapping row %s is refused when the stage is built', (line, message) => {
    const csv = `source_object,source_field,target,type,required,notes\nUser,Id,id,id,yes,Id\n${line}\n`;
    expect(() => createUserStage(parseMappingCsv(csv))).toThrow(message);
  });
});
