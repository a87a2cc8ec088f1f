import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyPublishedChecksum } from '../../../devstack/checksum';

/** The test infrastructure runs only downloads whose checksum matches the one Maven Central published. */
const dir = mkdtempSync(join(tmpdir(), 'checksum-'));
const body = randomBytes(4096);
const published = join(dir, 'repo-kafka-clients-3.9.1.jar');
writeFileSync(published, body);
const copy = join(dir, 'kafka-clients-3.9.1.jar');
writeFileSync(copy, body);
const sha1 = createHash('sha1').update(body).digest('hex');

describe('verifyPublishedChecksum', () => {
  it('refuses when no checksum was published (or kept)', () => {
    expect(() => verifyPublishedChecksum(copy, published)).toThrow(/checksum .* is missing/);
  });

  it('accepts the file whose sha1 matches (Maven writes "hash" or "hash  name")', () => {
    writeFileSync(`${published}.sha1`, `${sha1}  kafka-clients-3.9.1.jar\n`);
    expect(() => verifyPublishedChecksum(copy, published)).not.toThrow();
  });

  it('refuses a file changed by one byte, naming both hashes and the fix', () => {
    const bad = Buffer.from(body);
    bad[100] ^= 1;
    const tampered = join(dir, 'tampered.jar');
    writeFileSync(tampered, bad);
    expect(() => verifyPublishedChecksum(tampered, published)).toThrow(
      new RegExp(`does not match the published ${sha1}.*delete it`),
    );
  });

  it('prefers the sha512 when one is published', () => {
    writeFileSync(`${published}.sha512`, 'f'.repeat(128));
    expect(() => verifyPublishedChecksum(copy, published)).toThrow(/sha512 .* does not match/);
  });
});
