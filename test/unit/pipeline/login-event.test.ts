import { createLoginEventStage } from '../../../pipeline/stages/login-event';
import { catalog, ctx, frozen } from './helpers';

const stage = createLoginEventStage(catalog.loginHistoryMapping);
const row = {
  Id: '0YaHn00000AbCdEKAV',
  UserId: '005Hn00000AbCdEIAV',
  LoginTime: '2024-05-02T07:30:00.000Z',
  LoginType: 'Application',
  LoginSubType: '',
  SourceIp: '203.0.113.7',
  LoginUrl: 'login.salesforce.com',
  Browser: 'Chrome 124',
  Platform: 'Mac OSX',
  Application: 'Browser',
  ClientVersion: 'N/A',
  ApiType: '',
  ApiVersion: '',
  Status: 'Success',
  CountryIso: 'GB',
  LoginGeoId: '04FHn00000XyZ12KAA',
  AuthenticationServiceId: '',
  TlsProtocol: 'TLS 1.3',
  CipherSuite: 'TLS_AES_256_GCM_SHA384',
  AuthMethodReference: '',
  OptionsIsGet: 'false',
  OptionsIsPost: 'true',
  ForwardedForIp: '',
  NetworkId: '',
};

describe('login event stage: raw LoginHistory row -> login event record', () => {
  test('every LoginHistory field, LoginTime as epoch ms, plus run metadata', () => {
    expect(stage(frozen(row), ctx)).toEqual({
      ok: true,
      record: {
        id: '0YaHn00000AbCdEKAV',
        userId: '005Hn00000AbCdEIAV',
        loginTime: Date.UTC(2024, 4, 2, 7, 30),
        loginType: 'Application',
        loginSubType: null,
        sourceIp: '203.0.113.7',
        loginUrl: 'login.salesforce.com',
        browser: 'Chrome 124',
        platform: 'Mac OSX',
        application: 'Browser',
        clientVersion: 'N/A',
        apiType: null,
        apiVersion: null,
        status: 'Success',
        countryIso: 'GB',
        loginGeoId: '04FHn00000XyZ12KAA',
        authenticationServiceId: null,
        tlsProtocol: 'TLS 1.3',
        cipherSuite: 'TLS_AES_256_GCM_SHA384',
        authMethodReference: null,
        optionsIsGet: false,
        optionsIsPost: true,
        forwardedForIp: null,
        networkId: null,
        orgId: ctx.orgId,
        connectorName: ctx.connectorName,
        runId: ctx.runId,
        extractedAt: ctx.extractedAt,
      },
    });
  });

  test('fields an older API version lacks (CountryIso, AuthMethodReference) are null', () => {
    const { CountryIso: _c, AuthMethodReference: _a, ...older } = row;
    const result = stage(older, ctx);
    expect(result.ok && [result.record.countryIso, result.record.authMethodReference]).toEqual([null, null]);
  });

  const failures: [string, Record<string, string>, string][] = [
    ['no LoginTime', { ...row, LoginTime: '' }, 'LoginTime'],
    ['bad LoginTime', { ...row, LoginTime: 'yesterday' }, 'LoginTime'],
    ['no UserId', { ...row, UserId: '' }, 'UserId'],
    ['bad OptionsIsPost', { ...row, OptionsIsPost: 'POST' }, 'OptionsIsPost'],
  ];
  test.each(failures)('%s -> RecordError on %s', (_name, bad, field) => {
    const result = stage(bad, ctx);
    expect(result.ok ? null : result.error.field).toBe(field);
  });
});
