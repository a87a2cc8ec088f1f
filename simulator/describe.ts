/**
 * REST describe responses (sObject describe and describeGlobal), rendered from the schema for
 * one API version. Only the properties connectors read are computed; the rest carry
 * Salesforce's usual defaults so strict JSON consumers see a familiar shape.
 */
import { FieldDef, ObjectDef, Schema } from './schema';

const SOAP_TYPES: Record<string, string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  textarea: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  url: 'xsd:string',
  picklist: 'xsd:string',
  boolean: 'xsd:boolean',
  datetime: 'xsd:dateTime',
  date: 'xsd:date',
  double: 'xsd:double',
  int: 'xsd:int',
  address: 'urn:address',
};

function describeField(f: FieldDef): Record<string, unknown> {
  const text = ['string', 'textarea', 'email', 'phone', 'url', 'picklist', 'id', 'reference'].includes(f.type);
  return {
    aggregatable: f.type !== 'textarea' && f.type !== 'address',
    aiPredictionField: false,
    autoNumber: false,
    byteLength: text ? f.length * 3 : 0,
    calculated: f.name === 'Name' || f.type === 'address',
    calculatedFormula: null,
    cascadeDelete: false,
    caseSensitive: false,
    compoundFieldName: f.compoundFieldName,
    controllerName: null,
    createable: f.createable,
    custom: f.custom,
    defaultValue: f.type === 'boolean' ? false : null,
    defaultValueFormula: null,
    defaultedOnCreate:
      f.type === 'boolean' ||
      ['Id', 'CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById', 'SystemModstamp'].includes(f.name),
    dependentPicklist: false,
    deprecatedAndHidden: false,
    digits: f.type === 'int' ? f.precision : 0,
    displayLocationInDecimal: false,
    encrypted: false,
    externalId: false,
    extraTypeInfo:
      f.type === 'textarea'
        ? f.length > 255
          ? 'plaintextarea'
          : null
        : f.name.endsWith('PhotoUrl')
          ? 'imageurl'
          : null,
    filterable: f.filterable,
    filteredLookupInfo: null,
    formulaTreatNullNumberAsZero: false,
    groupable: f.type !== 'textarea' && f.type !== 'double' && f.type !== 'address' && f.type !== 'datetime',
    highScaleNumber: false,
    htmlFormatted: false,
    idLookup: f.type === 'id' || f.unique,
    inlineHelpText: null,
    label: f.label,
    length: f.length,
    mask: null,
    maskType: null,
    name: f.name,
    nameField: f.nameField,
    namePointing: f.referenceTo.length > 1,
    nillable: f.nillable,
    permissionable: f.nillable && f.updateable,
    picklistValues: f.picklistValues.map((v, i) => ({
      active: true,
      defaultValue: i === 0 && f.name === 'DigestFrequency',
      label: v,
      validFor: null,
      value: v,
    })),
    polymorphicForeignKey: f.referenceTo.length > 1,
    precision: f.type === 'double' ? f.precision : 0,
    queryByDistance: false,
    referenceTargetField: null,
    referenceTo: f.referenceTo,
    relationshipName: f.relationshipName,
    relationshipOrder: null,
    restrictedDelete: false,
    restrictedPicklist: f.type === 'picklist',
    scale: f.scale,
    searchPrefilterable: false,
    soapType: SOAP_TYPES[f.type],
    sortable: f.sortable,
    type: f.type,
    unique: f.unique,
    updateable: f.updateable,
    writeRequiresMasterRead: false,
  };
}

function urls(obj: ObjectDef, version: string): Record<string, string> {
  const base = `/services/data/v${version}/sobjects/${obj.name}`;
  return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
}

function objectSummary(obj: ObjectDef, version: string): Record<string, unknown> {
  const readOnly = obj.name === 'LoginHistory' || obj.name === 'UserLicense';
  return {
    activateable: false,
    createable: !readOnly,
    custom: false,
    customSetting: false,
    deepCloneable: false,
    deletable: false,
    deprecatedAndHidden: false,
    feedEnabled: obj.name === 'User',
    hasSubtypes: false,
    isInterface: false,
    isSubtype: false,
    keyPrefix: obj.keyPrefix,
    label: obj.label,
    labelPlural: obj.labelPlural,
    layoutable: !readOnly,
    mergeable: false,
    mruEnabled: obj.name === 'User',
    name: obj.name,
    queryable: true,
    replicateable: !readOnly,
    retrieveable: true,
    searchable: obj.name === 'User',
    triggerable: obj.name === 'User',
    undeletable: false,
    updateable: !readOnly,
    urls: urls(obj, version),
  };
}

/** GET /sobjects/{name}/describe */
export function describeObject(schema: Schema, obj: ObjectDef, version: number): Record<string, unknown> {
  const v = version.toFixed(1);
  const fields = schema.fields(obj, version);
  return {
    ...objectSummary(obj, v),
    actionOverrides: [],
    childRelationships:
      obj.name === 'User'
        ? [
            {
              cascadeDelete: false,
              childSObject: 'LoginHistory',
              deprecatedAndHidden: false,
              field: 'UserId',
              junctionIdListNames: [],
              junctionReferenceTo: [],
              relationshipName: null,
              restrictedDelete: false,
            },
            {
              cascadeDelete: true,
              childSObject: 'UserLogin',
              deprecatedAndHidden: false,
              field: 'UserId',
              junctionIdListNames: [],
              junctionReferenceTo: [],
              relationshipName: null,
              restrictedDelete: false,
            },
            {
              cascadeDelete: false,
              childSObject: 'User',
              deprecatedAndHidden: false,
              field: 'ManagerId',
              junctionIdListNames: [],
              junctionReferenceTo: [],
              relationshipName: 'ManagedUsers',
              restrictedDelete: false,
            },
          ]
        : [],
    compactLayoutable: true,
    defaultImplementation: null,
    extendedBy: null,
    extendsInterfaces: null,
    fields: fields.map(describeField),
    implementedBy: null,
    implementsInterfaces: null,
    listviewable: null,
    lookupLayoutable: null,
    namedLayoutInfos: [],
    networkScopeFieldName: null,
    recordTypeInfos: [],
    searchLayoutable: true,
    sobjectDescribeOption: 'FULL',
    supportedScopes: [{ label: 'All users', name: 'everything' }],
  };
}

/** GET /sobjects */
export function describeGlobal(schema: Schema, version: number): Record<string, unknown> {
  const v = version.toFixed(1);
  const sobjects = schema
    .objectNames()
    .map((n) => schema.object(n, version))
    .filter((o): o is ObjectDef => o !== undefined)
    .map((o) => objectSummary(o, v));
  return { encoding: 'UTF-8', maxBatchSize: 200, sobjects };
}

/** GET /sobjects/{name} */
export function objectBasicInfo(obj: ObjectDef, version: number): Record<string, unknown> {
  return { objectDescribe: objectSummary(obj, version.toFixed(1)), recentItems: [] };
}
