import { readFileSync } from 'fs';
import path from 'path';
import { parse } from 'csv-parse/sync';
import { createUserStage } from '../../../pipeline/stages/user';
import { avroType } from '../../../schemas/avro';
import { decodeFramed, encodeFramed } from '../../../schemas/wire';
import { catalog } from './helpers';

/**
 * GOLDEN: one captured-style User Bulk CSV row -> the exact Neurons user record -> the exact
 * Confluent wire bytes for schema id 42. Any change to the mapping, the conversions, the schema
 * (field order, types) or the encoder shows up here. If the change is intended, regenerate the
 * hex and say why in the commit.
 */
const fixture = readFileSync(path.join(__dirname, 'fixtures', 'user-row.csv'), 'utf8');
const [row] = parse(fixture, { columns: true }) as Record<string, string>[];
const ctx = {
  instanceUrl: 'https://acme.my.salesforce.com',
  orgId: '00DHn0000001AbCMAU',
  connectorName: 'acme-salesforce',
  runId: 'run-2024-05-02T08:00:00Z',
  extractedAt: Date.UTC(2024, 4, 2, 8, 0, 0),
};

const expectedRecord = {
  id: '005Hn00000AbCdEIAV',
  name: 'Ada Lovelace',
  firstName: 'Ada',
  lastName: 'Lovelace',
  username: 'ada@example.com.acme',
  alias: 'alove',
  title: 'Chief Analyst',
  employeeNumber: 'E-1815',
  email: 'ada@example.com',
  division: 'Engines',
  department: 'Analytics',
  companyName: 'Acme, Inc.',
  userType: 'Standard',
  userRoleId: '00EHn000001AbCdMAK',
  userRoleName: 'VP Analytics',
  userRoleDeveloperName: 'VP_Analytics',
  // every flag has its typed field now (issue 15): the fallback maps are empty
  preferences: null,
  permissions: null,
  isActive: true,
  isFrozen: false,
  isPasswordLocked: false,
  status: 'active',
  phone: '+44 20 7946 0000',
  fax: null,
  mobilePhone: '+44 7700 900000',
  extension: '42',
  street: '12 St James\'s Square\nSuite "B"',
  city: 'London',
  state: null,
  postalCode: 'SW1Y 4JH',
  country: 'United Kingdom',
  latitude: 51.507351,
  longitude: -0.1277583,
  geocodeAccuracy: 'Address',
  language: 'en_US',
  locale: 'en_GB',
  timeZone: 'Europe/London',
  signature: 'Ada',
  senderName: 'Ada L.',
  senderEmail: 'ada@example.com',
  createdAt: Date.UTC(2020, 0, 2, 3, 4, 5),
  createdById: '005Hn00000Adm1nIAA',
  outOfOfficeMessage: null,
  emailEncoding: 'UTF-8',
  receivesInfoEmails: true,
  receivesAdminInfoEmails: false,
  fullPhotoUrl: 'https://acme.file.force.com/profilephoto/729Hn/F',
  smallPhotoUrl: 'https://acme.file.force.com/profilephoto/729Hn/T',
  mediumPhotoUrl: 'https://acme.file.force.com/profilephoto/729Hn/M',
  bannerPhotoUrl: '/profilephoto/005/B',
  smallBannerPhotoUrl: '/profilephoto/005/D',
  mediumBannerPhotoUrl: '/profilephoto/005/E',
  isProfilePhotoActive: true,
  profileId: '00eHn000001XyZaIAK',
  profileName: 'System Administrator',
  individualId: null,
  callCenterId: null,
  managerId: '005Hn00000MgR01IAA',
  delegatedApproverId: null,
  lastViewedAt: Date.UTC(2024, 4, 1, 10, 20, 30),
  lastReferencedAt: Date.UTC(2024, 4, 1, 10, 20, 30),
  lastPasswordChangeAt: Date.UTC(2024, 2, 15, 8, 0, 0),
  lastLoginAt: Date.UTC(2024, 4, 2, 7, 30, 0),
  lastModifiedAt: Date.UTC(2024, 3, 30, 12, 0, 0),
  systemModifiedAt: Date.UTC(2024, 3, 30, 12, 0, 1),
  lastModifiedById: '005Hn00000Adm1nIAA',
  userLicenseName: 'Salesforce',
  userLicenseKey: 'SFDC',
  deviceBrowser: null,
  devicePlatform: null,
  deviceApplication: null,
  deviceSourceIp: null,
  deviceLoginAt: null,
  forecastEnabled: false,
  federationIdentifier: 'ada@idp.example.com',
  digestFrequency: 'D',
  contactId: null,
  communityNickname: 'ada.l',
  badgeText: null,
  recordUrl: 'https://acme.my.salesforce.com/005Hn00000AbCdEIAV',
  aboutMe: 'Wrote the first program. Ünïcödé ✓',
  orgId: '00DHn0000001AbCMAU',
  connectorName: 'acme-salesforce',
  runId: 'run-2024-05-02T08:00:00Z',
  extractedAt: Date.UTC(2024, 4, 2, 8, 0, 0),
  ...typedFlags({
    prefActivityRemindersPopup: true,
    prefHideS1BrowserUI: false,
    permMarketingUser: false,
    permKnowledgeUser: true,
  }),
};

/** Every typed pref* / perm* field of the schema: null (the org did not send it) unless given. */
function typedFlags(given: Record<string, boolean>): Record<string, boolean | null> {
  const fields = (catalog.schemas.userValue as { fields: { name: string }[] }).fields.map((f) => f.name);
  return Object.fromEntries(fields.filter((f) => /^(pref|perm)[A-Z]/.test(f)).map((f) => [f, given[f] ?? null]));
}

// magic 00 | schema id 0000002a (42) | Avro body (field order of user-value.avsc)
const expectedWireHex = [
  '000000002a24303035486e303030303041624364454941560218416461204c6f76656c616365020641646102104c6f76',
  '656c6163650228616461406578616d706c652e636f6d2e61636d65020a616c6f7665021a436869656620416e616c7973',
  '74020c452d31383135021e616461406578616d706c652e636f6d020e456e67696e65730212416e616c79746963730214',
  '41636d652c20496e632e02105374616e646172640224303045486e303030303031416243644d414b0218565020416e61',
  '6c7974696373021856505f416e616c7974696373000001020002000002202b3434203230203739343620303030300002',
  '1e2b343420373730302039303030303002043432023c3132205374204a616d65732773205371756172650a5375697465',
  '20224222020c4c6f6e646f6e0002105357315920344a48021c556e69746564204b696e67646f6d02e44ba8e0f0c04940',
  '028072254c625ac0bf020e41646472657373020a656e5f5553020a656e5f4742021a4575726f70652f4c6f6e646f6e02',
  '06416461020c416461204c2e021e616461406578616d706c652e636f6d0290b2aec3ec5b0224303035486e3030303030',
  '41646d316e49414100020a5554462d3802010200026068747470733a2f2f61636d652e66696c652e666f7263652e636f',
  '6d2f70726f66696c6570686f746f2f373239486e2f46026068747470733a2f2f61636d652e66696c652e666f7263652e',
  '636f6d2f70726f66696c6570686f746f2f373239486e2f54026068747470733a2f2f61636d652e66696c652e666f7263',
  '652e636f6d2f70726f66696c6570686f746f2f373239486e2f4d02262f70726f66696c6570686f746f2f3030352f4202',
  '262f70726f66696c6570686f746f2f3030352f4402262f70726f66696c6570686f746f2f3030352f4502010224303065',
  '486e30303030303158795a6149414b022853797374656d2041646d696e6973747261746f7200000224303035486e3030',
  '3030304d675230314941410002e096dcbae66302e096dcbae6630280808092c8630280a3ae83e76302808882eee56302',
  'd09782eee5630224303035486e303030303041646d316e494141021453616c6573666f72636502085346444300000000',
  '0002000226616461406964702e6578616d706c652e636f6d02024400020a6164612e6c006268747470733a2f2f61636d',
  '652e6d792e73616c6573666f7263652e636f6d2f303035486e30303030304162436445494156025057726f7465207468',
  '652066697273742070726f6772616d2e20c39c6ec3af63c3b664c3a920e29c9324303044486e30303030303031416243',
  '4d41551e61636d652d73616c6573666f7263653072756e2d323032342d30352d30325430383a30303a30305a80808a85',
  'e76302010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
  '000002000000000000000000000000000000000000000000000000000000000000000000000000000000000000020000',
  '00000002010000000000000000',
].join('');

describe('golden: fixture row -> record -> Confluent wire bytes', () => {
  const userType = avroType(catalog.schemas.userValue);
  const result = createUserStage(catalog.userMapping)(row, ctx);

  test('the fixture row gives exactly the expected record', () => {
    expect(result).toEqual({ ok: true, record: expectedRecord });
  });

  test('the record encodes to exactly the expected bytes with schema id 42', () => {
    const bytes = encodeFramed(userType, 42, expectedRecord);
    expect(bytes.subarray(0, 5).toString('hex')).toBe('000000002a');
    expect(bytes.toString('hex')).toBe(expectedWireHex);
  });

  test('the expected bytes decode back to the expected record', () => {
    expect(decodeFramed(userType, Buffer.from(expectedWireHex, 'hex'))).toEqual({
      schemaId: 42,
      value: expectedRecord,
    });
  });

  test('key: the User Id as an Avro string, hand-derived bytes', () => {
    // 00 magic | 0000002b id 43 | 24 = zigzag(18) length | ASCII of the Id
    const key = encodeFramed(avroType(catalog.schemas.key), 43, '005Hn00000AbCdEIAV');
    expect(key.toString('hex')).toBe('000000002b' + '24' + Buffer.from('005Hn00000AbCdEIAV', 'ascii').toString('hex'));
  });
});
