import { LiveIndex } from '../../../pipeline/kafka/live-index';
import { contentHash } from '../../../pipeline/records';
import { packFlags, validFlags, withCarriedFlags } from '../../../pipeline/user-login-flags';

const F = 'UserLogin.IsFrozen';
const L = 'UserLogin.IsPasswordLocked';

describe('UserLogin flags carried across a run that cannot read UserLogin', () => {
  it('packs known flags and nothing else', () => {
    expect(packFlags({ Id: 'a', [F]: 'true', [L]: 'false' })).toBe('tf');
    expect(packFlags({ Id: 'a', [F]: 'false', [L]: 'true' })).toBe('ft');
    expect(packFlags({ Id: 'a' })).toBeUndefined();
    expect(packFlags({ Id: 'a', [F]: '', [L]: 'false' })).toBeUndefined();
    expect(validFlags('tt')).toBe('tt');
    for (const bad of [undefined, '', 't', 'tx', 'ttt', '--']) expect(validFlags(bad)).toBeUndefined();
  });

  it('puts the carried flags back last, so the content hash equals the record that carried them', () => {
    const known = { Id: 'a', IsActive: 'true', Title: 'x', [F]: 'true', [L]: 'false' };
    const unknown = { Id: 'a', IsActive: 'true', Title: 'x' };
    const filled = withCarriedFlags(unknown, 'tf');
    expect(filled).toEqual(known);
    expect(contentHash(filled, 's')).toBe(contentHash(known, 's'));
    expect(withCarriedFlags(unknown, undefined)).toBe(unknown);
    // a row that knows its flags keeps them: carried flags never beat news
    expect(withCarriedFlags({ ...known, [F]: 'false' }, 'tf')[F]).toBe('false');
  });

  it('the live index keeps the flags beside the hash, and unknown as unknown', () => {
    const live = new LiveIndex();
    live.put('u1', { hash: 'h'.repeat(22), flags: 'tf' });
    live.put('u2', { hash: 'h2' });
    live.put('u3', { hash: '', flags: 'bogus' });
    expect(live.get('u1')).toEqual({ hash: 'h'.repeat(22), device: undefined, flags: 'tf' });
    expect(live.get('u2')).toEqual({ hash: 'h2', device: undefined, flags: undefined });
    expect(live.take('u3')).toEqual({ hash: '', device: undefined, flags: undefined });
    expect(live.has('u3')).toBe(false);
    live.put('u1', { hash: 'h3' });
    expect(live.get('u1')?.flags).toBeUndefined();
  });
});
