import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile } from '../../../pipeline/config';

/**
 * Secret files that others can read are refused (the secret is already exposed to every local
 * user), unless allowInsecureSecretFiles says the operator knows. Real files, real modes.
 */
const dir = mkdtempSync(join(tmpdir(), 'secret-files-'));

function setup(mode: number, extra = ''): string {
  const secret = join(dir, `pw-${mode.toString(8)}`);
  writeFileSync(secret, 'S3CRET-file-0001\n');
  chmodSync(secret, mode);
  const file = join(dir, `c-${mode.toString(8)}-${extra ? 'allow' : 'strict'}.yaml`);
  writeFileSync(
    file,
    [
      'connectorName: acme',
      'salesforceUrl: https://acme.my.salesforce.com',
      'consumerKey: k',
      'consumerSecret: S3CRET-consumer-0001',
      'username: u@acme.com',
      `passwordFile: ${secret}`,
      'kafka: { brokers: ["127.0.0.1:9092"] }',
      'registry: { url: "http://127.0.0.1:8081" }',
      extra,
    ].join('\n'),
  );
  return file;
}

function load(file: string): ConfigError | null {
  try {
    loadConfigFile(file);
    return null;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

describe('secret file permissions', () => {
  it.each([0o600, 0o400])('mode %s (owner only) is accepted', (mode) => {
    expect(load(setup(mode))).toBeNull();
  });

  it.each([0o640, 0o604, 0o644, 0o660, 0o666])(
    'mode %s (group or world can read) is refused with the field, the mode and the fix',
    (mode) => {
      const e = load(setup(mode));
      expect(e).not.toBeNull();
      expect(e!.issues).toHaveLength(1);
      expect(e!.issues[0].field).toBe('passwordFile');
      expect(e!.message).toContain(mode.toString(8).padStart(4, '0'));
      expect(e!.message).toContain('chmod 600');
      expect(e!.message).toContain('allowInsecureSecretFiles');
      expect(e!.message).not.toContain('S3CRET-file-0001');
    },
  );

  it('allowInsecureSecretFiles: true lets a readable file through', () => {
    expect(load(setup(0o644, 'allowInsecureSecretFiles: true'))).toBeNull();
  });
});
