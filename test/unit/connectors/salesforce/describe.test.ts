import {
  selectFields,
  type Describer,
  type FieldDescribe,
  type SObjectDescribe,
} from '../../../../connectors/salesforce/describe';
import { FatalError } from '../../../../kernel/errors';

const f = (name: string, type = 'string', extra: Partial<FieldDescribe> = {}): FieldDescribe => ({
  name,
  type,
  ...extra,
});
const ref = (name: string, to: string[], relationshipName: string | null): FieldDescribe =>
  f(name, 'reference', { referenceTo: to, relationshipName });

const objects: Record<string, SObjectDescribe> = {
  User: {
    name: 'User',
    queryable: true,
    fields: [
      f('Id', 'id'),
      f('IsActive', 'boolean'),
      f('FirstName', 'string', { compoundFieldName: 'Name' }),
      f('Name'),
      f('Street', 'textarea', { compoundFieldName: 'Address' }),
      f('City', 'string', { compoundFieldName: 'Address' }),
      f('Latitude', 'double', { compoundFieldName: 'Address' }),
      f('Address', 'address'),
      f('UserPreferencesA', 'boolean'),
      f('UserPreferencesB', 'boolean'),
      f('UserPermissionsX', 'boolean'),
      ref('UserRoleId', ['UserRole'], 'UserRole'),
      ref('ProfileId', ['Profile'], 'Profile'),
      ref('DelegatedApproverId', ['Group', 'User'], null),
      ref('ContactId', ['Contact'], null),
      ref('ManagerId', ['User'], 'Manager'),
      f('Secret', 'string', { deprecatedAndHidden: true }),
    ],
  },
  UserRole: { name: 'UserRole', queryable: true, fields: [f('Id', 'id'), f('Name'), f('DeveloperName')] },
  Profile: {
    name: 'Profile',
    queryable: true,
    fields: [f('Id', 'id'), f('Name'), ref('UserLicenseId', ['UserLicense'], 'UserLicense')],
  },
  UserLicense: { name: 'UserLicense', queryable: true, fields: [f('Id', 'id'), f('Name'), f('LicenseDefinitionKey')] },
  Hidden: { name: 'Hidden', queryable: false, fields: [f('Id', 'id')] },
};

function describer(calls: string[] = []): Describer {
  return async (name) => {
    calls.push(name);
    return objects[name] ?? null;
  };
}

describe('describe-driven field selection', () => {
  it('keeps wanted fields that exist, in order, spelled as describe spells them', async () => {
    const s = await selectFields('User', ['id', 'NAME', 'FirstName', 'IsActive', 'Id'], describer());
    expect(s).toEqual({ fields: ['Id', 'Name', 'FirstName', 'IsActive'], missing: [] });
  });

  it('skips and reports fields the org lacks', async () => {
    const s = await selectFields('User', ['Id', 'FederationIdentifier', 'Secret'], describer());
    expect(s.fields).toEqual(['Id']);
    expect(s.missing.map((m) => m.field)).toEqual(['FederationIdentifier', 'Secret']);
  });

  it('replaces a compound address by its components and never queries it', async () => {
    const s = await selectFields('User', ['Address', 'City'], describer());
    expect(s.fields).toEqual(['Street', 'City', 'Latitude']);
  });

  it('expands prefix patterns against the org', async () => {
    const s = await selectFields('User', ['UserPreferences*', 'UserPermissions*', 'UserFoo*'], describer());
    expect(s.fields).toEqual(['UserPreferencesA', 'UserPreferencesB', 'UserPermissionsX']);
    expect(s.missing).toEqual([{ field: 'UserFoo*', reason: 'no field of this org matches' }]);
  });

  it('validates child-to-parent paths by describing each referenced object once', async () => {
    const calls: string[] = [];
    const s = await selectFields(
      'User',
      [
        'userrole.name',
        'Profile.Name',
        'Profile.UserLicense.Name',
        'Profile.UserLicense.LicenseDefinitionKey',
        'Manager.Name',
      ],
      describer(calls),
    );
    expect(s.fields).toEqual([
      'UserRole.Name',
      'Profile.Name',
      'Profile.UserLicense.Name',
      'Profile.UserLicense.LicenseDefinitionKey',
      'Manager.Name',
    ]);
    expect(calls.sort()).toEqual(['Profile', 'User', 'UserLicense', 'UserRole']);
  });

  it('reports paths that cannot be followed', async () => {
    const s = await selectFields(
      'User',
      ['UserRole.Nope', 'Contact.Name', 'DelegatedApprover.Name', 'Profile.UserLicense.Missing'],
      describer(),
    );
    expect(s.fields).toEqual([]);
    expect(s.missing.map((m) => m.field)).toEqual([
      'UserRole.Nope',
      'Contact.Name',
      'DelegatedApprover.Name',
      'Profile.UserLicense.Missing',
    ]);
  });

  it('fails when a field the connector needs is missing, or the object is not queryable', async () => {
    await expect(selectFields('UserRole', ['Name'], describer(), ['Id', 'IsActive'])).rejects.toMatchObject({
      code: 'SALESFORCE_FIELD_UNAVAILABLE',
    });
    await expect(selectFields('Hidden', ['Id'], describer())).rejects.toMatchObject({
      code: 'SALESFORCE_OBJECT_UNAVAILABLE',
    });
    await expect(selectFields('Nothing', ['Id'], describer())).rejects.toBeInstanceOf(FatalError);
  });

  it('always selects the fields the connector needs, first', async () => {
    expect((await selectFields('User', ['Name', 'Id'], describer(), ['Id', 'IsActive'])).fields).toEqual([
      'Id',
      'IsActive',
      'Name',
    ]);
  });

  it('refuses entries that are not field names (config cannot inject SOQL)', async () => {
    await expect(selectFields('User', ["Id FROM User WHERE Name = 'x'"], describer())).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});
