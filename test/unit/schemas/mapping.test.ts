import { readFileSync } from 'fs';
import path from 'path';
import { exportMappingCsv, parseMappingCsv, sourceFields, type Mapping } from '../../../schemas/mapping';
import { FatalError } from '../../../kernel/errors';
import { loadCatalog } from '../../../schemas/catalog';

const shipped = (name: string) => readFileSync(path.join(__dirname, '../../../schemas/mapping', name), 'utf8');
const HEADER = 'source_object,source_field,target,type,required,notes';

describe('mapping CSV', () => {
  test.each(['user.csv', 'login-history.csv'])('%s round-trips: parse(export(m)) equals m', (file) => {
    const m = parseMappingCsv(shipped(file));
    expect(parseMappingCsv(exportMappingCsv(m))).toEqual(m);
  });

  test.each(['user.csv', 'login-history.csv'])('exporting %s reproduces the shipped file byte for byte', (file) => {
    expect(exportMappingCsv(parseMappingCsv(shipped(file)))).toBe(shipped(file));
  });

  test('quoting: commas, quotes and newlines in notes survive the round trip', () => {
    const m: Mapping = {
      rows: [{ sourceObject: 'User', sourceField: 'Id', target: 'id', type: 'id', required: true, notes: 'a, "b"\nc' }],
    };
    const csv = exportMappingCsv(m);
    expect(csv).toBe(`${HEADER}\nUser,Id,id,id,yes,"a, ""b""\nc"\n`);
    expect(parseMappingCsv(csv)).toEqual(m);
  });

  test('parses a line into a typed row', () => {
    expect(
      parseMappingCsv(`${HEADER}\nUser,UserPermissions*,permissions,boolean-map,no,"Any org's permissions"\n`),
    ).toEqual({
      rows: [
        {
          sourceObject: 'User',
          sourceField: 'UserPermissions*',
          target: 'permissions',
          type: 'boolean-map',
          required: false,
          notes: "Any org's permissions",
        },
      ],
    });
  });

  test('the shipped user mapping covers every attribute of the product documentation', () => {
    const targets = loadCatalog().userMapping.rows.map((r) => r.target);
    expect(targets).toEqual(
      expect.arrayContaining([
        'name',
        'username',
        'alias',
        'title',
        'employeeNumber',
        'email',
        'division',
        'department',
        'companyName',
        'userType',
        'userRoleId',
        'userRoleName',
        'preferences',
        'permissions',
        'isActive',
        'status',
        'phone',
        'fax',
        'mobilePhone',
        'street',
        'city',
        'state',
        'country',
        'language',
        'signature',
        'senderName',
        'senderEmail',
        'createdAt',
        'createdById',
        'outOfOfficeMessage',
        'emailEncoding',
        'receivesInfoEmails',
        'receivesAdminInfoEmails',
        'fullPhotoUrl',
        'smallPhotoUrl',
        'isProfilePhotoActive',
        'profileId',
        'individualId',
        'callCenterId',
        'managerId',
        'delegatedApproverId',
        'lastViewedAt',
        'lastReferencedAt',
        'lastPasswordChangeAt',
        'lastLoginAt',
        'lastModifiedAt',
        'lastModifiedById',
        'userLicenseName',
        'deviceBrowser',
        'devicePlatform',
        'forecastEnabled',
        'federationIdentifier',
        'digestFrequency',
        'contactId',
        'communityNickname',
        'badgeText',
        'recordUrl',
        'aboutMe',
        'orgId',
        'connectorName',
        'runId',
        'extractedAt',
      ]),
    );
  });

  const broken: [string, string, string][] = [
    [
      'wrong header',
      'source,target\nUser,Id\n',
      'header must be "source_object,source_field,target,type,required,notes"',
    ],
    ['unknown type', `${HEADER}\nUser,Id,id,uuid,yes,x\n`, 'line 2: type must be one of'],
    [
      'unknown source object',
      `${HEADER}\nAccount,Id,id,id,yes,x\n`,
      'line 2: source_object must be one of User, LoginHistory, Connector',
    ],
    ['bad required flag', `${HEADER}\nUser,Id,id,id,true,x\n`, 'line 2: required must be yes or no'],
    [
      'duplicate target',
      `${HEADER}\nUser,Id,id,id,yes,x\nUser,Name,id,string,no,y\n`,
      'line 3: target "id" appears twice',
    ],
    [
      'invalid Avro name',
      `${HEADER}\nUser,Id,record-id,id,yes,x\n`,
      'target "record-id" is not a valid Avro field name',
    ],
    [
      'map without prefix',
      `${HEADER}\nUser,UserPermissions,permissions,boolean-map,no,x\n`,
      'a boolean-map source_field is a prefix ending in *',
    ],
    [
      'status without two fields',
      `${HEADER}\nUser,IsActive,status,user-status,yes,x\n`,
      'a user-status source_field is ActiveField+FrozenField',
    ],
    ['ragged line', `${HEADER}\nUser,Id,id\n`, 'not valid CSV'],
  ];
  test.each(broken)('%s -> FatalError naming the problem', (_name, csv, message) => {
    expect(() => parseMappingCsv(csv)).toThrow(FatalError);
    expect(() => parseMappingCsv(csv)).toThrow(message);
  });
});

describe('sourceFields: what the extractor should query', () => {
  const { userMapping, loginHistoryMapping } = loadCatalog();
  test('User fields: names, parent paths, prefix patterns and the merged UserLogin keys, once each', () => {
    const fields = sourceFields(userMapping, 'User');
    expect(fields).toEqual(
      expect.arrayContaining([
        'Id',
        'IsActive',
        'UserRole.Name',
        'Profile.UserLicense.LicenseDefinitionKey',
        'UserPreferences*',
        'UserPermissions*',
        'UserLogin.IsFrozen',
      ]),
    );
    expect(new Set(fields).size).toBe(fields.length);
    expect(fields).not.toContain('Browser');
  });
  test('the device fields are read from LoginHistory', () => {
    expect(sourceFields(userMapping, 'LoginHistory')).toEqual([
      'Browser',
      'Platform',
      'Application',
      'SourceIp',
      'LoginTime',
    ]);
  });
  test('every LoginHistory field of salesforce.md', () => {
    expect(sourceFields(loginHistoryMapping, 'LoginHistory')).toEqual([
      'Id',
      'UserId',
      'LoginTime',
      'LoginType',
      'LoginSubType',
      'SourceIp',
      'LoginUrl',
      'Browser',
      'Platform',
      'Application',
      'ClientVersion',
      'ApiType',
      'ApiVersion',
      'Status',
      'CountryIso',
      'LoginGeoId',
      'AuthenticationServiceId',
      'TlsProtocol',
      'CipherSuite',
      'AuthMethodReference',
      'OptionsIsGet',
      'OptionsIsPost',
      'ForwardedForIp',
      'NetworkId',
    ]);
  });
});
