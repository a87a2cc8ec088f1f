import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Where the local services live and which ports they use. Ports are fixed and uncommon (not
 * 9092/8081/5432) so they never collide with a developer's own servers; each can be moved
 * with an environment variable.
 */
export const ROOT = path.resolve(__dirname, '..', '..');

/** Downloads (Kafka jars, the Apicurio archive) are cached here, outside the checkout. */
export const CACHE_DIR = process.env.SF_CONNECTOR_CACHE ?? path.join(os.homedir(), '.cache', 'sf-neurons-connector');

/** Data directories, logs and pid files of running services. */
export const RUN_DIR = path.join(CACHE_DIR, 'run');

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}=${raw} is not a TCP port (1-65535)`);
  return n;
}

/**
 * Below Linux's ephemeral range (32768-60999 by default): a port in that range can be taken at
 * any moment by the local end of an outgoing connection, and a server starting then fails with
 * "Address already in use" (seen once, Apicurio started right after the demo's servers stopped).
 */
export const PORTS = {
  kafka: port('SF_TEST_KAFKA_PORT', 19092),
  kafkaController: port('SF_TEST_KAFKA_CONTROLLER_PORT', 19093),
  registry: port('SF_TEST_REGISTRY_PORT', 18081),
  registryManagement: port('SF_TEST_REGISTRY_MANAGEMENT_PORT', 18082),
  postgres: port('SF_TEST_POSTGRES_PORT', 15432),
};

/** The Kafka releases the tests run against (devstack/kafka/<version>/pom.xml); CI runs both. */
export const KAFKA_VERSIONS = ['4.4.0', '3.9.1'] as const;

function kafkaVersion(): string {
  const v = process.env.SF_TEST_KAFKA_VERSION;
  if (v === undefined || v === '') return KAFKA_VERSIONS[0];
  if (!(KAFKA_VERSIONS as readonly string[]).includes(v)) {
    throw new Error(
      `SF_TEST_KAFKA_VERSION=${v} is not a tested Kafka release; use one of ${KAFKA_VERSIONS.join(', ')}`,
    );
  }
  return v;
}

export const VERSIONS = {
  /** SF_TEST_KAFKA_VERSION picks the release; the newest tested one by default. */
  kafka: kafkaVersion(),
  apicurio: '3.3.3',
};

/** Credentials of the local PostgreSQL (a test server on loopback; not a secret). */
export const PG = { user: 'connector', password: 'connector-local', database: 'connector' };

/** The connection settings the tests (and the demo) read. */
export interface ServiceEndpoints {
  KAFKA_BROKERS: string;
  SCHEMA_REGISTRY_URL: string;
  DATABASE_URL: string;
}

export function endpoints(): ServiceEndpoints {
  return {
    KAFKA_BROKERS: `127.0.0.1:${PORTS.kafka}`,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${PORTS.registry}/apis/ccompat/v7`,
    DATABASE_URL: `postgres://${PG.user}:${PG.password}@127.0.0.1:${PORTS.postgres}/${PG.database}`,
  };
}
