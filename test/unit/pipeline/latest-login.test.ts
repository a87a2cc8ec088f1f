import { createLatestLoginMerger, laterSuccessfulLogin } from '../../../pipeline/stages/latest-login';
import type { LoginEventRecord } from '../../../pipeline/stages/login-event';
import { createUserStage, type UserRecord } from '../../../pipeline/stages/user';
import { catalog, ctx } from './helpers';

const merge = createLatestLoginMerger(catalog.userMapping, catalog.loginHistoryMapping);
const USER = '005Hn00000AbCdEIAV';
const userResult = createUserStage(catalog.userMapping)({ Id: USER, IsActive: 'true' }, ctx);
if (!userResult.ok) throw userResult.error;
const user: UserRecord = Object.freeze(userResult.record);

const login = (id: string, loginTime: number, status = 'Success', userId = USER): LoginEventRecord =>
  ({
    id,
    userId,
    loginTime,
    status,
    browser: 'Firefox 126',
    platform: 'Linux',
    application: 'Browser',
    sourceIp: '198.51.100.4',
  }) as LoginEventRecord;

describe('mergeLatestLogin: device information from the latest login', () => {
  test('copies browser, platform, application, source IP and login time', () => {
    const merged = merge(user, Object.freeze(login('0YaHn00000000001AA', 1714635000000)));
    expect(merged).toEqual({
      ...user,
      deviceBrowser: 'Firefox 126',
      devicePlatform: 'Linux',
      deviceApplication: 'Browser',
      deviceSourceIp: '198.51.100.4',
      deviceLoginAt: 1714635000000,
    });
  });

  test('null login -> every device field null (and the input is not changed)', () => {
    const withDevice = merge(user, login('0YaHn00000000001AA', 1));
    const cleared = merge(withDevice, null);
    expect(cleared).toEqual(user);
    expect(withDevice.deviceBrowser).toBe('Firefox 126');
  });

  test("another user's login is a caller bug", () => {
    expect(() => merge(user, login('0YaHn00000000001AA', 1, 'Success', '005Hn00000ZzZzZIAV'))).toThrow(
      'belongs to 005Hn00000ZzZzZIAV',
    );
  });
});

describe('laterSuccessfulLogin: reducer for the latest login per user', () => {
  const a = login('0YaHn0000000000AAA', 1000);
  const b = login('0YaHn0000000000BAA', 2000);
  const sameTimeHigherId = login('0YaHn0000000000CAA', 1000);
  const failed = login('0YaHn0000000000DAA', 9000, 'Invalid Password');
  const cases: [string, LoginEventRecord | undefined, LoginEventRecord, LoginEventRecord | undefined][] = [
    ['first success', undefined, a, a],
    ['later wins', a, b, b],
    ['earlier loses', b, a, b],
    ['same time: larger Id wins', a, sameTimeHigherId, sameTimeHigherId],
    ['same time: order does not matter', sameTimeHigherId, a, sameTimeHigherId],
    ['failed attempts are ignored', a, failed, a],
    ['failed first attempt leaves none', undefined, failed, undefined],
  ];
  test.each(cases)('%s', (_name, current, candidate, expected) => {
    expect(laterSuccessfulLogin(current, candidate)).toBe(expected);
  });
});
