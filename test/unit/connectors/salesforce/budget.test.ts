import { ApiBudget, parseLimitInfo } from '../../../../connectors/salesforce/budget';
import { FatalError } from '../../../../pipeline/core/errors';

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
    const b = new ApiBudget(0.5);
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
    const b = new ApiBudget(1);
    b.observe('api-usage=10/100');
    b.observe('api-usage=8/100');
    expect(b.usage()).toEqual({ used: 10, max: 100 });
  });
});
