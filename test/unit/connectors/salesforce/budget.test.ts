import { ApiBudget, parseLimitInfo } from '../../../../connectors/salesforce/budget';
import { FatalError } from '../../../../kernel/errors';

describe('API budget', () => {
  it.each([
    ['api-usage=25/15000', { used: 25, max: 15000 }],
    ['api-usage=25/15000, per-app-api-usage=17/250(appName=sample-app)', { used: 25, max: 15000 }],
    ['per-app-api-usage=17/250(appName=x)', null],
    ['', null],
    [null, null],
    ['api-usage=garbage', null],
  ])('parses Sforce-Limit-Info %j', (header, expected) => {
    expect(parseLimitInfo(header)).toEqual(expected);
  });

  it('allows calls until the share of the daily limit would be passed, then stops with an actionable error', () => {
    const b = new ApiBudget({ reserve: 0, share: 0.5 });
    b.acquire('first call'); // nothing known yet
    b.release();
    b.observe('api-usage=48/100');
    b.acquire('call 49');
    b.acquire('call 50'); // in flight: 48 + 1 + 1 = 50
    expect(() => b.acquire('call 51')).toThrow(FatalError);
    b.release();
    b.release();
    b.observe('api-usage=50/100');
    let err: unknown;
    try {
      b.acquire('create the User query job');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FatalError);
    expect((err as FatalError).code).toBe('SALESFORCE_API_BUDGET');
    expect((err as Error).message).toMatch(/create the User query job.*50 of its 100.*50%.*apiBudgetShare/);
    expect(b.usage()).toEqual({ used: 50, max: 100 });
  });

  it('keeps the highest usage when responses arrive out of order', () => {
    const b = new ApiBudget({ reserve: 0 });
    b.observe('api-usage=10/100');
    b.observe('api-usage=8/100');
    expect(b.usage()).toEqual({ used: 10, max: 100 });
  });
});

describe('API budget: the reserve', () => {
  it('allows calls while the org keeps the reserve free, randomized (replay with SEED)', () => {
    const seed = Number(process.env.SEED ?? Date.now() % 100000);
    let x = seed;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 200; i++) {
      const max = 100 + Math.floor(rnd() * 100000);
      const used = Math.floor(rnd() * max);
      const reserve = Math.round(rnd() * 90) / 100;
      const b = new ApiBudget({ reserve });
      b.observe(`api-usage=${used}/${max}`);
      let allowed = 0;
      try {
        for (;;) {
          b.acquire('call');
          allowed++;
          if (allowed > max) break;
        }
      } catch (err) {
        expect((err as FatalError).code).toBe('SALESFORCE_API_BUDGET');
      }
      // exactly the calls that leave at least ceil(reserve × max) requests
      const expected = Math.max(0, max - Math.ceil(max * reserve) - used);
      expect({ seed, max, used, reserve, allowed }).toEqual({ seed, max, used, reserve, allowed: expected });
    }
  });

  it("apiMaxCalls caps this connector's own calls", () => {
    const b = new ApiBudget({ reserve: 0, maxCalls: 3 });
    for (let i = 0; i < 3; i++) b.acquire('call');
    expect(() => b.acquire('call 4')).toThrow(/made 3 calls.*apiMaxCalls=3/);
    expect(b.callsMade()).toBe(3);
  });

  it('keeps room for the cleanup of the jobs it created: new work stops first, the deletions still fit', () => {
    const b = new ApiBudget({ reserve: 0, maxCalls: 10 });
    b.acquire('create a query job', { hold: 3 }); // 1 made, 3 held
    for (let i = 0; i < 6; i++) b.acquire(`poll ${i}`); // 7 made
    // an 8th would leave 2 calls for the job's status, abort and deletion
    expect(() => b.acquire('create another query job', { hold: 3 })).toThrow(/made 7 calls \(3 more kept/);
    expect(() => b.acquire('poll 7')).toThrow(FatalError);
    for (const what of ['status', 'abort', 'delete']) b.acquire(what, { cleanup: true }); // 10 made
    expect(() => b.acquire('one more delete', { cleanup: true })).toThrow(/apiMaxCalls=10/); // never past the limit
  });

  it('gives back the room a cleanup did not need', () => {
    const b = new ApiBudget({ reserve: 0, maxCalls: 6 });
    b.acquire('create a query job', { hold: 3 });
    b.acquire('delete the finished job', { cleanup: true }); // 2 made, 2 still held
    b.unhold(2); // the job needed no status or abort
    for (let i = 0; i < 4; i++) b.acquire(`poll ${i}`); // 6 made
    expect(() => b.acquire('poll 4')).toThrow(/made 6 calls, its limit/);
  });
});
