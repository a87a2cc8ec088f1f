import { ConfigError, parseConnectorConfig } from '../../../pipeline/config';
import { goodConfig, sources } from '../config/helpers';

/** The config options of the run promises: each bad value names the field and the fix. */
function messageOf(raw: unknown): string {
  try {
    parseConnectorConfig(raw, sources(), 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('run promise options', () => {
  it('refuses deletionGuard.override: true (it would let every run through), naming the one-run flag', () => {
    const msg = messageOf({ ...goodConfig(), deletionGuard: { override: true } });
    expect(msg).toContain('deletionGuard.override');
    expect(msg).toContain('--allow-mass-delete');
    expect(
      parseConnectorConfig(
        { ...goodConfig(), deletionGuard: { override: false, maxCount: 10 } },
        sources(),
        'test.yaml',
      ).guard,
    ).toEqual({ maxShare: 0.25, alwaysAllowUpTo: 5, override: false, maxCount: 10 });
  });
});
