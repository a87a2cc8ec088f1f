/**
 * The Salesforce fields the extractor asks for by default: every seed attribute of
 * ../shared/docs/salesforce.md. The mapping (schemas/) may pass its own list instead.
 *
 * Entries are API names, child-to-parent paths (`Profile.UserLicense.Name`) or a prefix
 * pattern ending in `*` (`UserPreferences*`), which selects every matching field the org's
 * describe lists (those sets vary by org and API version). Whatever the list says, only fields
 * that the org's describe confirms ever reach SOQL (see describe.ts).
 */
export const DEFAULT_USER_FIELDS: readonly string[] = [
  'Id', 'Username', 'Name', 'FirstName', 'LastName', 'Alias', 'Title', 'EmployeeNumber', 'Email',
  'Division', 'Department', 'CompanyName', 'UserType',
  'UserRoleId', 'UserRole.Name', 'UserRole.DeveloperName',
  'IsActive',
  'Phone', 'Fax', 'MobilePhone', 'Extension',
  // Address is compound: describe.ts replaces it by its components; listed for completeness.
  'Address', 'Street', 'City', 'State', 'PostalCode', 'Country', 'Latitude', 'Longitude', 'GeocodeAccuracy',
  'LanguageLocaleKey', 'LocaleSidKey', 'TimeZoneSidKey',
  'Signature', 'SenderName', 'SenderEmail',
  'CreatedDate', 'CreatedById',
  'OutOfOfficeMessage', 'EmailEncodingKey', 'ReceivesInfoEmails', 'ReceivesAdminInfoEmails',
  'FullPhotoUrl', 'SmallPhotoUrl', 'MediumPhotoUrl', 'BannerPhotoUrl', 'SmallBannerPhotoUrl',
  'MediumBannerPhotoUrl', 'IsProfilePhotoActive',
  'ProfileId', 'Profile.Name', 'IndividualId', 'CallCenterId', 'ManagerId', 'DelegatedApproverId',
  'LastViewedDate', 'LastReferencedDate', 'LastPasswordChangeDate', 'LastLoginDate',
  'LastModifiedDate', 'LastModifiedById', 'SystemModstamp',
  'Profile.UserLicense.Name', 'Profile.UserLicense.LicenseDefinitionKey',
  'ForecastEnabled', 'FederationIdentifier', 'DigestFrequency', 'ContactId', 'CommunityNickname',
  'BadgeText', 'AboutMe',
  'UserPreferences*', 'UserPermissions*',
];

export const DEFAULT_LOGIN_FIELDS: readonly string[] = [
  'Id', 'UserId', 'LoginTime', 'LoginType', 'LoginSubType', 'SourceIp', 'LoginUrl', 'Browser',
  'Platform', 'Application', 'ClientVersion', 'ApiType', 'ApiVersion', 'Status', 'CountryIso',
  'LoginGeoId', 'AuthenticationServiceId', 'TlsProtocol', 'CipherSuite', 'AuthMethodReference',
  'OptionsIsGet', 'OptionsIsPost', 'ForwardedForIp', 'NetworkId',
];

/** Fields the extractor itself needs; an org without them is a fatal error, not a warning. */
export const REQUIRED_USER_FIELDS: readonly string[] = ['Id', 'IsActive'];
export const REQUIRED_LOGIN_FIELDS: readonly string[] = ['Id', 'UserId', 'LoginTime'];

/** Keys merged into every user row from UserLogin (not User fields: UserLogin is a child object). */
export const FROZEN_KEY = 'UserLogin.IsFrozen';
export const PASSWORD_LOCKED_KEY = 'UserLogin.IsPasswordLocked';
