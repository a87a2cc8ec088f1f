import { LatestLogins } from '../../../pipeline/latest-logins';
import { laterSuccessfulLogin, type LoginEventRecord } from '../../../pipeline/stages';
import { mulberry32 } from '../../../simulator/prng';

const login = (
  id: string,
  userId: string,
  loginTime: number,
  status: string | null,
  browser: string | null = 'Chrome 124',
  sourceIp: string | null = '203.0.113.7',
): LoginEventRecord => ({ id, userId, loginTime, status, browser, sourceIp, platform: 'Mac OSX' }) as LoginEventRecord;

describe('LatestLogins', () => {
  it('keeps, per user, exactly what laterSuccessfulLogin keeps, whatever the order events arrive in', () => {
    const rand = mulberry32(11);
    const events: LoginEventRecord[] = [];
    for (let i = 0; i < 3000; i++) {
      const status = rand() < 0.8 ? 'Success' : rand() < 0.5 ? 'Invalid Password' : null;
      // few distinct times: ties are common, so the Id tie-break is exercised
      events.push(
        login(
          `0Ya${String(Math.floor(rand() * 1e6)).padStart(12, '0')}`,
          `005U${Math.floor(rand() * 40)}`,
          1_700_000_000_000 + Math.floor(rand() * 5) * 1000,
          status,
          rand() < 0.1 ? null : `B${i}`,
        ),
      );
    }
    const store = new LatestLogins(['browser', 'sourceIp']);
    const model = new Map<string, LoginEventRecord>();
    for (const e of events) {
      store.offer(e);
      const kept = laterSuccessfulLogin(model.get(e.userId), e);
      if (kept) model.set(e.userId, kept);
    }
    expect(store.size).toBe(model.size);
    for (const [userId, e] of model) {
      expect(store.get(userId)).toEqual({
        id: e.id,
        userId,
        loginTime: e.loginTime,
        status: 'Success',
        browser: e.browser,
        sourceIp: e.sourceIp,
      });
    }
    expect(store.get('005U-nobody')).toBeNull();
  });

  it('ignores failed attempts and keeps null fields as null', () => {
    const store = new LatestLogins(['browser']);
    store.offer(login('0Ya1', '005A', 2000, 'Invalid Password'));
    expect(store.get('005A')).toBeNull();
    store.offer(login('0Ya2', '005A', 1000, 'Success', null));
    store.offer(login('0Ya3', '005A', 3000, 'Failed'));
    expect(store.get('005A')).toEqual({
      id: '0Ya2',
      userId: '005A',
      loginTime: 1000,
      status: 'Success',
      browser: null,
    });
  });

  it('refuses a login time that is not an epoch millisecond', () => {
    expect(() => new LatestLogins([]).offer(login('0Ya1', '005A', -1, 'Success'))).toThrow(RangeError);
  });
});
