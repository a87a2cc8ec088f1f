/**
 * The User object's fields: the seed document's whole list (salesforce.md), the preference and
 * permission booleans, and the compound Address (queryable over REST, refused by Bulk).
 */
import { KeyPrefix } from './ids';
import { auditFields, field, FieldDef, ObjectDef, ref } from './schema';

export const USER_TYPES = [
  'Standard', 'PowerPartner', 'PowerCustomerSuccess', 'CustomerSuccess', 'CspLitePortal',
  'CsnOnly', 'Guest', 'SelfService', 'AutomatedProcess', 'CloudIntegrationUser',
];
export const LANGUAGES = ['en_US', 'de', 'fr', 'ja', 'es', 'pt_BR', 'zh_CN', 'sv'];
export const LOCALES = ['en_US', 'de_DE', 'fr_FR', 'ja_JP', 'es_ES', 'pt_BR', 'zh_CN', 'sv_SE', 'en_GB', 'en_IN'];
export const TIME_ZONES = [
  'America/Los_Angeles', 'America/New_York', 'Europe/Berlin', 'Europe/Paris', 'Asia/Tokyo',
  'Europe/Madrid', 'America/Sao_Paulo', 'Asia/Shanghai', 'Europe/Stockholm', 'Europe/London', 'Asia/Kolkata',
];
export const ENCODINGS = ['UTF-8', 'ISO-8859-1', 'Shift_JIS', 'GB2312'];
export const GEOCODE_ACCURACY = [
  'Address', 'NearAddress', 'Block', 'Street', 'ExtendedZip', 'Zip', 'Neighborhood', 'City', 'County', 'State', 'Unknown',
];

/** UserPreferences* booleans; `[name, minVersion]` (orgs on older versions see fewer). */
export const USER_PREFERENCES: [string, number][] = [
  ['ActivityRemindersPopup', 0], ['EventRemindersCheckboxDefault', 0], ['TaskRemindersCheckboxDefault', 0],
  ['ReminderSoundOff', 0], ['DisableAllFeedsEmail', 0], ['DisableFollowersEmail', 0],
  ['DisableProfilePostEmail', 0], ['DisableChangeCommentEmail', 0], ['DisableLaterCommentEmail', 0],
  ['DisProfPostCommentEmail', 0], ['ContentNoEmail', 0], ['ContentEmailAsAndWhen', 0],
  ['ApexPagesDeveloperMode', 0], ['ReceiveNoNotificationsAsApprover', 0], ['ReceiveNotificationsAsDelegatedApprover', 0],
  ['HideCSNGetChatterMobileTask', 0], ['DisableMentionsPostEmail', 0], ['DisMentionsCommentEmail', 0],
  ['HideCSNDesktopTask', 0], ['HideChatterOnboardingSplash', 0], ['HideSecondChatterOnboardingSplash', 0],
  ['DisCommentAfterLikeEmail', 0], ['DisableLikeEmail', 0], ['SortFeedByComment', 0],
  ['DisableMessageEmail', 0], ['DisableBookmarkEmail', 0], ['DisableSharePostEmail', 0],
  ['EnableAutoSubForFeeds', 0], ['DisableFileShareNotificationsForApi', 0], ['ShowTitleToExternalUsers', 0],
  ['ShowManagerToExternalUsers', 0], ['ShowEmailToExternalUsers', 0], ['ShowWorkPhoneToExternalUsers', 0],
  ['ShowMobilePhoneToExternalUsers', 0], ['ShowFaxToExternalUsers', 0], ['ShowStreetAddressToExternalUsers', 0],
  ['ShowCityToExternalUsers', 0], ['ShowStateToExternalUsers', 0], ['ShowPostalCodeToExternalUsers', 0],
  ['ShowCountryToExternalUsers', 0], ['ShowProfilePicToGuestUsers', 0], ['ShowTitleToGuestUsers', 0],
  ['ShowCityToGuestUsers', 0], ['ShowStateToGuestUsers', 0], ['ShowPostalCodeToGuestUsers', 0],
  ['ShowCountryToGuestUsers', 0], ['ShowForecastingChangeSignals', 0], ['HideS1BrowserUI', 0],
  ['DisableEndorsementEmail', 0], ['PathAssistantCollapsed', 0], ['CacheDiagnostics', 0],
  ['ShowEmailToGuestUsers', 0], ['ShowManagerToGuestUsers', 0], ['ShowWorkPhoneToGuestUsers', 0],
  ['ShowMobilePhoneToGuestUsers', 0], ['ShowFaxToGuestUsers', 0], ['ShowStreetAddressToGuestUsers', 0],
  ['LightningExperiencePreferred', 0], ['PreviewLightning', 0], ['HideEndUserOnboardingAssistantModal', 0],
  ['HideLightningMigrationModal', 0], ['HideSfxWelcomeMat', 0], ['HideBiggerPhotoCallout', 0],
  ['GlobalNavBarWTShown', 0], ['GlobalNavGridMenuWTShown', 0], ['CreateLEXAppsWTShown', 0],
  ['FavoritesWTShown', 0], ['RecordHomeSectionCollapseWTShown', 0], ['RecordHomeReservedWTShown', 0],
  ['FavoritesShowTopFavorites', 0], ['ExcludeMailAppAttachments', 0], ['SuppressTaskSFXReminders', 0],
  ['SuppressEventSFXReminders', 0], ['PreviewCustomTheme', 0], ['HasCelebrationBadge', 0],
  ['UserDebugModePref', 0], ['SRHOverrideActivities', 45], ['NewLightningReportRunPageEnabled', 45],
  ['ReverseOpenActivitiesView', 46], ['HasSentWarningEmail', 47], ['HasSentWarningEmail238', 48],
  ['HasSentWarningEmail240', 49], ['NativeEmailClient', 52], ['SendListEmailThroughExternalService', 55],
  ['ShowForecastingRoundedAmounts', 56], ['HideInvoicesRedirectConfirmation', 57],
  ['HideStatementsRedirectConfirmation', 57], ['HideBrowseProductRedirectConfirmation', 58],
  ['HideOnlineSalesAppWelcomeMat', 58],
];

/** UserPermissions* booleans (the set depends on org features). */
export const USER_PERMISSIONS = [
  'MarketingUser', 'OfflineUser', 'AvantgoUser', 'CallCenterAutoLogin', 'SFContentUser',
  'KnowledgeUser', 'InteractionUser', 'SupportUser', 'ChatterAnswersUser', 'WorkDotComUserFeature',
  'LiveAgentUser', 'SiteforceContributorUser', 'SiteforcePublisherUser', 'JigsawProspectingUser',
];

const s = (name: string, length: number, opts = {}): FieldDef => field(name, 'string', { length, ...opts });
const b = (name: string, opts = {}): FieldDef => field(name, 'boolean', { nillable: false, ...opts });
const pick = (name: string, values: string[], opts = {}): FieldDef => field(name, 'picklist', { picklistValues: values, length: 40, ...opts });

function userFields(): FieldDef[] {
  const addr = { compoundFieldName: 'Address' };
  return [
    field('Id', 'id', { label: 'User ID' }),
    s('Username', 80, { nillable: false, unique: true }),
    s('LastName', 80, { nillable: false, compoundFieldName: 'Name' }),
    s('FirstName', 40, { compoundFieldName: 'Name' }),
    s('Name', 121, { nameField: true, updateable: false, createable: false, label: 'Full Name', nillable: false }),
    s('CompanyName', 80), s('Division', 80), s('Department', 80), s('Title', 80),
    field('Street', 'textarea', { length: 255, ...addr }), s('City', 40, addr), s('State', 80, addr),
    s('PostalCode', 20, addr), s('Country', 80, addr),
    field('Latitude', 'double', { precision: 18, scale: 15, ...addr }),
    field('Longitude', 'double', { precision: 18, scale: 15, ...addr }),
    pick('GeocodeAccuracy', GEOCODE_ACCURACY, addr),
    field('Address', 'address', { updateable: false, createable: false }),
    field('Email', 'email', { length: 128, nillable: false }),
    b('EmailPreferencesAutoBcc'), b('EmailPreferencesAutoBccStayInTouch'), b('EmailPreferencesStayInTouchReminder'),
    field('SenderEmail', 'email', { length: 80 }), s('SenderName', 80),
    field('Signature', 'textarea', { length: 1333 }),
    s('StayInTouchSubject', 80), field('StayInTouchSignature', 'textarea', { length: 512 }), s('StayInTouchNote', 512),
    field('Phone', 'phone', { length: 40 }), field('Fax', 'phone', { length: 40 }), field('MobilePhone', 'phone', { length: 40 }),
    s('Alias', 8, { nillable: false }), s('CommunityNickname', 40, { nillable: false, unique: true, label: 'Nickname' }),
    s('BadgeText', 80, { updateable: false, createable: false }),
    b('IsActive', { label: 'Active' }),
    pick('TimeZoneSidKey', TIME_ZONES, { nillable: false, label: 'Time Zone' }),
    ref('UserRoleId', 'UserRole', 'UserRole', { label: 'Role ID' }),
    pick('LocaleSidKey', LOCALES, { nillable: false, label: 'Locale' }),
    b('ReceivesInfoEmails', { label: 'Info Emails' }), b('ReceivesAdminInfoEmails', { label: 'Admin Info Emails' }),
    pick('EmailEncodingKey', ENCODINGS, { nillable: false, label: 'Email Encoding' }),
    ref('ProfileId', 'Profile', 'Profile', { nillable: false }),
    pick('UserType', USER_TYPES, { updateable: false, createable: false }),
    pick('LanguageLocaleKey', LANGUAGES, { nillable: false, label: 'Language' }),
    s('EmployeeNumber', 20),
    // DelegatedApproverId is polymorphic (Group or User): no single relationship to follow.
    field('DelegatedApproverId', 'reference', { referenceTo: ['Group', 'User'] }),
    ref('ManagerId', 'User', 'Manager'),
    field('LastLoginDate', 'datetime', { updateable: false, createable: false }),
    field('LastPasswordChangeDate', 'datetime', { updateable: false, createable: false }),
    ...auditFields(),
    field('NumberOfFailedLogins', 'int', { updateable: false, createable: false, precision: 9 }),
    field('OfflineTrialExpirationDate', 'datetime', { updateable: false, createable: false }),
    field('OfflinePdaTrialExpirationDate', 'datetime', { updateable: false, createable: false }),
    ...USER_PERMISSIONS.map((p) => b(`UserPermissions${p}`)),
    b('ForecastEnabled', { label: 'Allow Forecasting' }),
    ...USER_PREFERENCES.map(([p, v]) => b(`UserPreferences${p}`, { minVersion: v })),
    // Contact, Account, Individual and CallCenter are not simulated, so their relationships are
    // left out (null) rather than described and then refused.
    ref('ContactId', 'Contact', null),
    ref('AccountId', 'Account', null, { updateable: false, createable: false }),
    ref('CallCenterId', 'CallCenter', null),
    s('Extension', 40),
    s('FederationIdentifier', 512, { label: 'SAML Federation ID' }),
    field('AboutMe', 'textarea', { length: 1000 }),
    field('FullPhotoUrl', 'url', { length: 1024, updateable: false, createable: false }),
    field('SmallPhotoUrl', 'url', { length: 1024, updateable: false, createable: false }),
    b('IsExtIndicatorVisible', { updateable: false, createable: false }),
    s('OutOfOfficeMessage', 40, { updateable: false, createable: false }),
    field('MediumPhotoUrl', 'url', { length: 1024, updateable: false, createable: false }),
    pick('DigestFrequency', ['D', 'W', 'N'], { nillable: false, label: 'Chatter Email Highlights Frequency' }),
    pick('DefaultGroupNotificationFrequency', ['P', 'D', 'W', 'N'], { nillable: false }),
    field('LastViewedDate', 'datetime', { updateable: false, createable: false }),
    field('LastReferencedDate', 'datetime', { updateable: false, createable: false }),
    field('BannerPhotoUrl', 'url', { length: 1024, updateable: false, createable: false }),
    field('SmallBannerPhotoUrl', 'url', { length: 1024, updateable: false, createable: false }),
    field('MediumBannerPhotoUrl', 'url', { length: 1024, updateable: false, createable: false }),
    b('IsProfilePhotoActive', { updateable: false, createable: false }),
    ref('IndividualId', 'Individual', null, { minVersion: 42 }),
    ...CUSTOM_USER_FIELDS,
  ];
}

/** Custom fields an admin added to User (describe says custom: true). Generated rows leave them
 *  null; tests set values with updateUser. */
export const CUSTOM_USER_FIELDS: FieldDef[] = [
  pick('Region__c', ['EMEA', 'AMER', 'APAC'], { custom: true, label: 'Region' }),
  s('CostCenter__c', 20, { custom: true, label: 'Cost Center' }),
  field('Quota__c', 'double', { custom: true, label: 'Quota', precision: 18, scale: 2 }),
  field('HireDate__c', 'date', { custom: true, label: 'Hire Date' }),
  b('IsContractor__c', { custom: true, label: 'Contractor' }),
];

export const UserObject: ObjectDef = {
  name: 'User',
  label: 'User',
  labelPlural: 'Users',
  keyPrefix: KeyPrefix.User,
  fields: userFields(),
  minVersion: 0,
};
