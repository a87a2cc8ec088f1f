import { HEAP_GROWING_PERCENT, limitHeapGrowth } from '../../../kernel/heap-growth';

describe('limitHeapGrowth', () => {
  it("sets V8's heap growing factor unless the process was started with its own", () => {
    expect(HEAP_GROWING_PERCENT).toBe(100);
    expect(limitHeapGrowth(HEAP_GROWING_PERCENT, ['--max-semi-space-size=4'])).toBe(true);
    expect(limitHeapGrowth(50, ['--heap-growing-percent=50'])).toBe(false);
    expect(limitHeapGrowth(50, ['--heap_growing_percent', '50'])).toBe(false);
  });

  it('refuses a percent that is not a whole number above 0, naming it', () => {
    expect(() => limitHeapGrowth(0, [])).toThrow('heap growing percent must be a whole number above 0; got 0');
    expect(() => limitHeapGrowth(2.5, [])).toThrow(RangeError);
  });
});
