import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, processSources } from '../../../pipeline/config';

/**
 * Secret files that others can read are refused (the secret is already exposed to every local
 * user), unless allowInsecureSecretFiles says the operator knows. Real files, real modes.
 */
const dir = mkdtempSync(join(tmpdir(), 'secret-files-'));

function setup(mode: number, extra = '', configMode = 0o644): string {
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
      'consumerSecretEnv: SF_SECRET_FOR_TEST',
      'username: u@acme.com',
      `passwordFile: ${secret}`,
      'kafka: { brokers: ["127.0.0.1:9092"] }',
      'registry: { url: "http://127.0.0.1:8081" }',
      extra,
    ].join('\n'),
  );
  chmodSync(file, configMode);
  return file;
}

function load(file: string): ConfigError | null {
  try {
    loadConfigFile(file, { ...processSources({ SF_SECRET_FOR_TEST: 'S3CRET-consumer-0001' }) });
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

  it('a config file with a secret written in it is a secret file: refused when others can read it', () => {
    const literal = (mode: number, extra = '') => {
      const file = setup(0o600, extra, mode);
      writeFileSync(
        file,
        `consumerSecret: S3CRET-literal-0002\n` + readFileSync(file, 'utf8').replace(/^consumerSecretEnv.*$/m, ''),
      );
      return load(file);
    };
    const e = literal(0o644);
    expect(e?.issues.map((i) => i.field)).toEqual(['(file)']);
    expect(e?.message).toMatch(/holds consumerSecret written in it and is readable by .*chmod 600/);
    expect(e?.message).not.toContain('S3CRET-literal-0002');
    expect(literal(0o600)).toBeNull();
    expect(literal(0o644, 'allowInsecureSecretFiles: true')).toBeNull();
  });

  it('a readable config file without secrets in it is fine', () => {
    expect(load(setup(0o600, '', 0o644))).toBeNull();
  });
});
