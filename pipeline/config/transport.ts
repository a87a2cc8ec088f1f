import type { LoadedConfig } from './types';

/**
 * What a config sends unprotected, said at every start (never refused: a lab without TLS is
 * legitimate, but nobody should run it that way by accident). Each warning names the option and
 * the fix and holds no secret. Loopback is not a network: nothing on it warns.
 *  - SASL over a plaintext Kafka connection;
 *  - the registry's basic-auth password over http;
 *  - the database password over a connection without TLS (node-postgres: no sslmode, or disable);
 *  - certificate verification switched off: kafka.tls.rejectUnauthorized false, sslmode=no-verify,
 *    NODE_TLS_REJECT_UNAUTHORIZED=0 (which turns it off for Salesforce and the registry too).
 */
export function transportWarnings(c: LoadedConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const ssl = c.kafka.ssl;
  const allLoopback = c.kafka.brokers.every((b) => isLoopback(b.replace(/:\d+$/, '')));
  if (c.kafka.sasl && !ssl && !allLoopback) {
    const clear = c.kafka.sasl.mechanism === 'plain' ? ', its password in clear,' : '';
    out.push(
      `kafka.sasl (${c.kafka.sasl.mechanism}) is used without kafka.tls: the login${clear} and every record cross ` +
        'the network unencrypted; set kafka.tls: true (a SASL_SSL listener)',
    );
  }
  if (ssl && typeof ssl === 'object' && ssl.rejectUnauthorized === false) {
    out.push(
      "kafka.tls.rejectUnauthorized is false: the brokers' certificates are not verified and anyone on the path " +
        'can impersonate them; remove it (a private CA goes in kafka.tls.caFile)',
    );
  }
  const registry = safeUrl(c.registry.url);
  if (c.registry.auth && registry?.protocol === 'http:' && !isLoopback(registry.hostname)) {
    out.push(
      `registry.password is sent to ${registry.host} over plain http (basic auth: readable by anyone on the path); ` +
        'use an https:// registry.url',
    );
  }
  const db = c.sink.databaseUrl ? safeUrl(c.sink.databaseUrl) : null;
  if (db) {
    const mode = db.searchParams.get('sslmode');
    const sslParam = db.searchParams.get('ssl');
    const tls = (mode !== null && mode !== 'disable') || sslParam === 'true' || sslParam === '1';
    const host = db.hostname || db.searchParams.get('host') || '';
    const socket = host.startsWith('/') || host === '';
    if (!tls && db.password && !socket && !isLoopback(host)) {
      out.push(
        `database.url: the database password and every row go to ${host} without TLS ` +
          `(sslmode ${mode ?? 'not set'}); add ?sslmode=verify-full (with sslrootcert for a private CA)`,
      );
    }
    if (
      mode === 'no-verify' ||
      (db.searchParams.get('uselibpqcompat') === 'true' && (mode === 'require' || mode === 'prefer'))
    ) {
      out.push(
        `database.url: sslmode=${mode} does not verify the server's certificate; anyone on the path can ` +
          'impersonate the database; use sslmode=verify-full',
      );
    }
  }
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    out.push(
      'NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate verification off for every https connection (Salesforce, ' +
        'the registry); unset it and trust a private CA with NODE_EXTRA_CA_CERTS instead',
    );
  }
  return out;
}

function safeUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
