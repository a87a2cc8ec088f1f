import type { SecretSources } from '../../../pipeline/config';

/** A minimal valid config (password flow) whose secrets are the given literal values. */
export function goodConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    connectorName: 'acme-prod',
    salesforceUrl: 'https://acme.my.salesforce.com',
    consumerKey: '3MVG9-key',
    consumerSecret: 'S3CRET-consumer-0001',
    username: 'integration@acme.com',
    password: 'S3CRET-password-0002',
    securityToken: 'S3CRET-token-0003',
    kafka: { brokers: ['127.0.0.1:9092'] },
    registry: { url: 'http://127.0.0.1:8081' },
    ...over,
  };
}

export const SECRETS = ['S3CRET-consumer-0001', 'S3CRET-password-0002', 'S3CRET-token-0003'];

/** Sources with a fixed environment and in-memory files. */
export function sources(env: Record<string, string> = {}, files: Record<string, string> = {}): SecretSources {
  return {
    env,
    readFile: (p) => {
      if (!(p in files)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return files[p];
    },
  };
}
