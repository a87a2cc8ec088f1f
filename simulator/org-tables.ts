/**
 * The small, fixed objects of the simulated org: user licences, profiles and roles. They are
 * materialised (a few dozen records) and never change while the simulator runs.
 */
import { KeyPrefix, makeId as makeIdIn, orgIdSpace } from './ids';
import { mulberry32 } from './prng';
import { StaticTable, Value } from './table';

type Rec = Record<string, Value>;

/** [Name, LicenseDefinitionKey] */
const LICENSES: [string, string][] = [
  ['Salesforce', 'SFDC'],
  ['Salesforce Platform', 'AUL'],
  ['Partner Community', 'PID_Partner_Community'],
  ['Customer Community', 'PID_Customer_Community'],
  ['Customer Community Plus', 'PID_Customer_Community_Plus'],
  ['Customer Portal Manager Standard', 'PID_Customer_Portal_Standard'],
  ['Guest User License', 'PID_Guest_User'],
  ['Chatter Free', 'PID_Chatter'],
  ['Salesforce Integration', 'PID_Salesforce_Integration'],
  ['Automated Process', 'PID_AutomatedProcess'],
  ['Self Service', 'PID_Self_Service'],
];

/** [Name, licence index, Profile.UserType] */
const PROFILES: [string, number, string][] = [
  ['System Administrator', 0, 'Standard'],
  ['Standard User', 0, 'Standard'],
  ['Sales Representative', 0, 'Standard'],
  ['Support Agent', 0, 'Standard'],
  ['Read Only', 0, 'Standard'],
  ['Standard Platform User', 1, 'Standard'],
  ['Partner Community User', 2, 'PowerPartner'],
  ['Customer Community User', 3, 'CspLitePortal'],
  ['Customer Community Plus User', 4, 'PowerCustomerSuccess'],
  ['Customer Portal Manager Standard', 5, 'CustomerSuccess'],
  ['Acme Site Guest User Profile', 6, 'Guest'],
  ['Chatter Free User', 7, 'CsnOnly'],
  ['Salesforce API Only System Integrations', 8, 'CloudIntegrationUser'],
  ['Automated Process', 9, 'AutomatedProcess'],
  ['Self Service User', 10, 'SelfService'],
];

/** Profile indices a user of each UserType draws from, with weights. */
export const PROFILES_BY_USER_TYPE: Record<string, [number, number][]> = {
  Standard: [
    [0, 3],
    [1, 40],
    [2, 25],
    [3, 15],
    [4, 7],
    [5, 10],
  ],
  PowerPartner: [[6, 1]],
  CspLitePortal: [[7, 1]],
  PowerCustomerSuccess: [[8, 1]],
  CustomerSuccess: [[9, 1]],
  Guest: [[10, 1]],
  CsnOnly: [[11, 1]],
  CloudIntegrationUser: [[12, 1]],
  AutomatedProcess: [[13, 1]],
  SelfService: [[14, 1]],
};

/** [Name, DeveloperName, parent index or -1, PortalType] */
const ROLES: [string, string, number, string][] = [
  ['CEO', 'CEO', -1, 'None'],
  ['VP, Sales & Marketing', 'VP_Sales_Marketing', 0, 'None'],
  ['VP Customer Support', 'VP_Customer_Support', 0, 'None'],
  ['Director, Customer "Success"', 'Director_Customer_Success', 2, 'None'],
  ['Sales Manager AMER', 'Sales_Manager_AMER', 1, 'None'],
  ['Sales Manager EMEA', 'Sales_Manager_EMEA', 1, 'None'],
  ['Sales Manager APAC', 'Sales_Manager_APAC', 1, 'None'],
  ['Sales Representative AMER', 'Sales_Rep_AMER', 4, 'None'],
  ['Sales Representative EMEA', 'Sales_Rep_EMEA', 5, 'None'],
  ['Sales Representative APAC', 'Sales_Rep_APAC', 6, 'None'],
  ['Support Tier 1', 'Support_Tier_1', 3, 'None'],
  ['Support Tier 2', 'Support_Tier_2', 3, 'None'],
  ['Marketing Team', 'Marketing_Team', 1, 'None'],
  ['Engineering', 'Engineering', 0, 'None'],
  ['Vertrieb Österreich', 'Vertrieb_Oesterreich', 5, 'None'],
  ['Acme Partners Partner Executive', 'Acme_Partners_Partner_Executive', 4, 'Partner'],
  ['Acme Partners Partner Manager', 'Acme_Partners_Partner_Manager', 15, 'Partner'],
  ['Acme Partners Partner User', 'Acme_Partners_Partner_User', 16, 'Partner'],
];
/** Roles for internal users, and for partner users. */
export const INTERNAL_ROLES = ROLES.map((_, i) => i).filter((i) => ROLES[i][3] === 'None');
export const PARTNER_ROLES = ROLES.map((_, i) => i).filter((i) => ROLES[i][3] === 'Partner');

export interface OrgTables {
  licenses: StaticTable;
  profiles: StaticTable;
  roles: StaticTable;
  roleId(index: number): string;
  profileId(index: number): string;
}

const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString();

/** Builds the fixed tables. `adminId` is the user who "created" them; `nowMs` the data's now. */
export function buildOrgTables(seed: number, nowMs: number, adminId: string): OrgTables {
  const rnd = mulberry32(seed ^ 0x51ed270b);
  const makeId = (prefix: string, index: number) => makeIdIn(prefix, index, orgIdSpace(seed));
  const orgBorn = nowMs - 8 * 365 * 86400_000;
  const stamp = (): Rec => {
    const created = orgBorn + Math.floor(rnd() * 365 * 86400_000);
    const modified = created + Math.floor(rnd() * (nowMs - created) * 0.9);
    return { CreatedDate: iso(created), LastModifiedDate: iso(modified), SystemModstamp: iso(modified) };
  };
  const licenses = LICENSES.map(([name, key], i): Rec => {
    const total = key === 'SFDC' ? 1_000_000 : Math.floor(rnd() * 50_000) + 10;
    return {
      Id: makeId(KeyPrefix.UserLicense, i),
      Name: name,
      MasterLabel: name,
      LicenseDefinitionKey: key,
      Status: 'Active',
      TotalLicenses: total,
      UsedLicenses: Math.floor(total * rnd()),
      ...stamp(),
    };
  });
  const profiles = PROFILES.map(([name, lic, userType], i): Rec => ({
    Id: makeId(KeyPrefix.Profile, i),
    Name: name,
    UserLicenseId: licenses[lic].Id,
    UserType: userType,
    Description: i === 0 ? 'Full access, "all" permissions' : null,
    PermissionsApiEnabled: i === 0 || i === 12,
    PermissionsViewAllData: i === 0,
    PermissionsManageUsers: i === 0,
    ...stamp(),
    CreatedById: adminId,
    LastModifiedById: adminId,
  }));
  const roles = ROLES.map(([name, dev, parent, portal], i): Rec => ({
    Id: makeId(KeyPrefix.UserRole, i),
    Name: name,
    DeveloperName: dev,
    ParentRoleId: parent < 0 ? null : makeId(KeyPrefix.UserRole, parent),
    RollupDescription: name,
    OpportunityAccessForAccountOwner: portal === 'None' ? 'Edit' : 'None',
    CaseAccessForAccountOwner: 'Edit',
    ContactAccessForAccountOwner: 'Edit',
    ForecastUserId: null,
    MayForecastManagerShare: false,
    PortalAccountId: portal === 'Partner' ? makeId('001', 1) : null,
    PortalType: portal,
    ...stamp(),
    LastModifiedById: adminId,
  }));
  return {
    licenses: new StaticTable('UserLicense', licenses),
    profiles: new StaticTable('Profile', profiles),
    roles: new StaticTable('UserRole', roles),
    roleId: (i) => String(roles[i].Id),
    profileId: (i) => String(profiles[i].Id),
  };
}
