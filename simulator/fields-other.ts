/**
 * LoginHistory, UserLogin and the small objects User's relationship paths reach
 * (UserRole, Profile, Profile.UserLicense).
 */
import { KeyPrefix } from './ids';
import { auditFields, field, FieldDef, ObjectDef, ref } from './schema';

export const LOGIN_TYPES = [
  'Application',
  'Remote Access 2.0',
  'Remote Access Client',
  'SAML Sfdc Initiated SSO',
  'Other Apex API',
  'Partner Product',
  'Chatter Communities External User',
  'Lightning Login',
];
export const TLS_PROTOCOLS = ['TLS 1.2', 'TLS 1.3', 'Unknown'];
export const CIPHER_SUITES = [
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_AES_128_GCM_SHA256',
  'Unknown',
];

const s = (name: string, length: number, opts = {}): FieldDef => field(name, 'string', { length, ...opts });
const b = (name: string, opts = {}): FieldDef => field(name, 'boolean', { nillable: false, ...opts });
const ro = { updateable: false, createable: false };

export const LoginHistoryObject: ObjectDef = {
  name: 'LoginHistory',
  label: 'Login History',
  labelPlural: 'Login History',
  keyPrefix: KeyPrefix.LoginHistory,
  minVersion: 0,
  fields: [
    field('Id', 'id', { label: 'Login History ID' }),
    // LoginHistory.UserId is a plain reference: SOQL cannot follow it (no User.Name from here).
    field('UserId', 'reference', { referenceTo: ['User'], ...ro }),
    field('LoginTime', 'datetime', { nillable: false, ...ro }),
    field('LoginType', 'picklist', { picklistValues: LOGIN_TYPES, length: 40, nillable: false, ...ro }),
    s('SourceIp', 39, ro),
    s('LoginUrl', 120, ro),
    field('AuthenticationServiceId', 'reference', { referenceTo: ['AuthConfig'], ...ro }),
    field('LoginGeoId', 'reference', { referenceTo: ['LoginGeo'], ...ro }),
    s('Browser', 64, ro),
    s('Platform', 64, ro),
    s('Status', 128, ro),
    s('Application', 64, ro),
    s('ClientVersion', 64, ro),
    s('ApiType', 64, ro),
    s('ApiVersion', 32, ro),
    s('CountryIso', 2, { minVersion: 37, ...ro }),
    s('AuthMethodReference', 255, { minVersion: 51, ...ro }),
    field('LoginSubType', 'picklist', {
      picklistValues: [
        'OAuth Username-Password Flow',
        'OAuth JWT Bearer Flow',
        'OAuth Client Credentials Flow',
        'Passwordless Login',
      ],
      length: 40,
      ...ro,
    }),
    field('TlsProtocol', 'picklist', { picklistValues: TLS_PROTOCOLS, length: 40, ...ro }),
    field('CipherSuite', 'picklist', { picklistValues: CIPHER_SUITES, length: 40, ...ro }),
    b('OptionsIsGet', ro),
    b('OptionsIsPost', ro),
    s('ForwardedForIp', 39, ro),
    field('NetworkId', 'reference', { referenceTo: ['Network'], ...ro }),
  ],
};

export const UserLoginObject: ObjectDef = {
  name: 'UserLogin',
  label: 'User Login',
  labelPlural: 'User Logins',
  keyPrefix: KeyPrefix.UserLogin,
  minVersion: 29,
  fields: [
    field('Id', 'id', { label: 'User Login ID' }),
    // One UserLogin per user: the simulator can resolve UserId → row without a scan.
    field('UserId', 'reference', { referenceTo: ['User'], unique: true, ...ro }),
    b('IsFrozen'),
    b('IsPasswordLocked'),
    field('LastModifiedDate', 'datetime', { nillable: false, ...ro }),
    ref('LastModifiedById', 'User', 'LastModifiedBy', { nillable: false, ...ro }),
  ],
};

export const UserRoleObject: ObjectDef = {
  name: 'UserRole',
  label: 'Role',
  labelPlural: 'Roles',
  keyPrefix: KeyPrefix.UserRole,
  minVersion: 0,
  fields: [
    field('Id', 'id', { label: 'Role ID' }),
    s('Name', 80, { nillable: false, nameField: true }),
    ref('ParentRoleId', 'UserRole', null),
    s('RollupDescription', 80),
    field('OpportunityAccessForAccountOwner', 'picklist', {
      picklistValues: ['None', 'Read', 'Edit'],
      length: 40,
      nillable: false,
    }),
    field('CaseAccessForAccountOwner', 'picklist', { picklistValues: ['None', 'Read', 'Edit'], length: 40 }),
    field('ContactAccessForAccountOwner', 'picklist', { picklistValues: ['None', 'Read', 'Edit'], length: 40 }),
    ref('ForecastUserId', 'User', 'ForecastUser'),
    b('MayForecastManagerShare'),
    s('DeveloperName', 80, { nillable: false }),
    field('PortalAccountId', 'reference', { referenceTo: ['Account'] }),
    field('PortalType', 'picklist', { picklistValues: ['None', 'CustomerPortal', 'Partner'], length: 40 }),
    ...auditFields().filter((f) => !f.name.startsWith('Created')),
  ],
};

export const UserLicenseObject: ObjectDef = {
  name: 'UserLicense',
  label: 'User License',
  labelPlural: 'User Licenses',
  keyPrefix: KeyPrefix.UserLicense,
  minVersion: 0,
  fields: [
    field('Id', 'id', { label: 'User License ID' }),
    s('LicenseDefinitionKey', 40, { nillable: false, ...ro }),
    field('TotalLicenses', 'int', { nillable: false, precision: 9, ...ro }),
    field('Status', 'picklist', { picklistValues: ['Active', 'Disabled'], length: 40, nillable: false, ...ro }),
    field('UsedLicenses', 'int', { nillable: false, precision: 9, ...ro }),
    s('Name', 40, { nillable: false, nameField: true, ...ro }),
    s('MasterLabel', 80, { nillable: false, ...ro }),
    field('CreatedDate', 'datetime', { nillable: false, ...ro }),
    field('LastModifiedDate', 'datetime', { nillable: false, ...ro }),
    field('SystemModstamp', 'datetime', { nillable: false, ...ro }),
  ],
};

export const ProfileObject: ObjectDef = {
  name: 'Profile',
  label: 'Profile',
  labelPlural: 'Profiles',
  keyPrefix: KeyPrefix.Profile,
  minVersion: 0,
  fields: [
    field('Id', 'id', { label: 'Profile ID' }),
    s('Name', 255, { nillable: false, nameField: true }),
    b('PermissionsApiEnabled', { label: 'API Enabled' }),
    b('PermissionsViewAllData', { label: 'View All Data' }),
    b('PermissionsManageUsers', { label: 'Manage Users' }),
    ref('UserLicenseId', 'UserLicense', 'UserLicense', { nillable: false }),
    field('UserType', 'picklist', {
      picklistValues: [
        'Standard',
        'PowerPartner',
        'PowerCustomerSuccess',
        'CustomerSuccess',
        'CspLitePortal',
        'Guest',
        'AutomatedProcess',
        'CloudIntegrationUser',
      ],
      length: 40,
      ...ro,
    }),
    s('Description', 255),
    ...auditFields(),
  ],
};
