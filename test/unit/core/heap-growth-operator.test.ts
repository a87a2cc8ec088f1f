import { limitHeapGrowth } from '../../../kernel/heap-growth';

/**
 * Review of issue 15: an operator's own heap growing percent must win over the connector's. Node hands
 * V8 flags written with one dash to V8 as well (`node -max-old-space-size=64` sets the limit, as
 * `--max-old-space-size=64` does), and V8 treats `-` and `_` alike: every spelling V8 accepts is the
 * operator's choice.
 */
it.each([['-heap-growing-percent=50'], ['-heap_growing_percent=50'], ['-heap-growing-percent']])(
  "an operator's %s is kept (the flag is not set over it)",
  (flag) => {
    expect(limitHeapGrowth(100, ['--max-semi-space-size=4', flag, '50'].slice(0, flag.includes('=') ? 2 : 3))).toBe(
      false,
    );
  },
);
