/**
 * The licence objects: permission set licences and their assignments, permission sets (each
 * profile owns one), permission set groups and permission set assignments. Fields follow the
 * Salesforce object reference (the API version a field appeared in is its minVersion).
 */
import { KeyPrefix } from './ids';
import { auditFields, field, FieldDef, ObjectDef, ref } from './schema';

const s = (name: string, length: number, opts = {}): FieldDef => field(name, 'string', { length, ...opts });
const ro = { updateable: false, createable: false };

export const PermissionSetLicenseObject: ObjectDef = {
  name: 'PermissionSetLicense',
  label: 'Permission Set License',
  labelPlural: 'Permission Set Licenses',
  keyPrefix: KeyPrefix.PermissionSetLicense,
  minVersion: 29,
  fields: [
    field('Id', 'id', { label: 'Permission Set License ID' }),
    s('DeveloperName', 80, { nillable: false, ...ro }),
    s('MasterLabel', 80, { nillable: false, nameField: true, ...ro }),
    s('PermissionSetLicenseKey', 255, { nillable: false, ...ro }),
    field('Status', 'picklist', { picklistValues: ['Active', 'Disabled'], length: 40, nillable: false, ...ro }),
    field('TotalLicenses', 'int', { nillable: false, precision: 9, ...ro }),
    field('UsedLicenses', 'int', { nillable: false, precision: 9, ...ro }),
    field('ExpirationDate', 'date', ro),
    ...auditFields(),
  ],
};

export const PermissionSetLicenseAssignObject: ObjectDef = {
  name: 'PermissionSetLicenseAssign',
  label: 'Permission Set License Assignment',
  labelPlural: 'Permission Set License Assignments',
  keyPrefix: KeyPrefix.PermissionSetLicenseAssign,
  minVersion: 29,
  fields: [
    field('Id', 'id', { label: 'Permission Set License Assignment ID' }),
    ref('AssigneeId', 'User', 'Assignee', { nillable: false }),
    ref('PermissionSetLicenseId', 'PermissionSetLicense', 'PermissionSetLicense', { nillable: false }),
    field('IsDeleted', 'boolean', { nillable: false, ...ro }),
    ...auditFields(),
  ],
};

export const PermissionSetGroupObject: ObjectDef = {
  name: 'PermissionSetGroup',
  label: 'Permission Set Group',
  labelPlural: 'Permission Set Groups',
  keyPrefix: KeyPrefix.PermissionSetGroup,
  minVersion: 45,
  fields: [
    field('Id', 'id', { label: 'Permission Set Group ID' }),
    s('DeveloperName', 80, { nillable: false }),
    s('MasterLabel', 80, { nillable: false, nameField: true }),
    field('Status', 'picklist', {
      picklistValues: ['Updated', 'Outdated', 'Updating', 'Failed'],
      length: 40,
      nillable: false,
      ...ro,
    }),
    ...auditFields(),
  ],
};

export const PermissionSetObject: ObjectDef = {
  name: 'PermissionSet',
  label: 'Permission Set',
  labelPlural: 'Permission Sets',
  keyPrefix: KeyPrefix.PermissionSet,
  minVersion: 22,
  fields: [
    field('Id', 'id', { label: 'Permission Set ID' }),
    s('Name', 80, { nillable: false }),
    s('Label', 80, { nillable: false, nameField: true }),
    field('IsOwnedByProfile', 'boolean', { nillable: false, ...ro }),
    ref('ProfileId', 'Profile', 'Profile', ro),
    ref('LicenseId', 'PermissionSetLicense', 'License', { minVersion: 29 }),
    ref('PermissionSetGroupId', 'PermissionSetGroup', 'PermissionSetGroup', { minVersion: 45, ...ro }),
    field('Type', 'picklist', {
      picklistValues: ['Regular', 'Profile', 'Group', 'Session'],
      length: 40,
      minVersion: 54,
      ...ro,
    }),
    ...auditFields(),
  ],
};

export const PermissionSetAssignmentObject: ObjectDef = {
  name: 'PermissionSetAssignment',
  label: 'Permission Set Assignment',
  labelPlural: 'Permission Set Assignments',
  keyPrefix: KeyPrefix.PermissionSetAssignment,
  minVersion: 22,
  fields: [
    field('Id', 'id', { label: 'Permission Set Assignment ID' }),
    ref('AssigneeId', 'User', 'Assignee', { nillable: false }),
    ref('PermissionSetId', 'PermissionSet', 'PermissionSet', { nillable: false }),
    ref('PermissionSetGroupId', 'PermissionSetGroup', 'PermissionSetGroup', { minVersion: 45 }),
    field('IsActive', 'boolean', { nillable: false, minVersion: 52, ...ro }),
    field('ExpirationDate', 'datetime', { minVersion: 52 }),
    field('SystemModstamp', 'datetime', { nillable: false, label: 'Date Assigned', ...ro }),
  ],
};

export const LICENCE_OBJECTS: ObjectDef[] = [
  PermissionSetLicenseObject,
  PermissionSetLicenseAssignObject,
  PermissionSetGroupObject,
  PermissionSetObject,
  PermissionSetAssignmentObject,
];
