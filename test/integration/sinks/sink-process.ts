/**
 * A sink in a process of its own, for the kill test: configured from SINK_TEST_* variables, and
 * killed with SIGKILL by itself right after its first database commit, before any offset commit.
 * Not a test file: offsets.test.ts runs it.
 */
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { LOGINS, USERS } from '../../../schemas/streams';
import { createPostgresSink, registrySchemaSource } from '../../../sinks';

const env = process.env;
const pool = new Pool({ connectionString: env.DATABASE_URL });
const sink = createPostgresSink({
  kafka: new Kafka({ clientId: 'sink-process', brokers: [env.KAFKA_BROKERS!], logLevel: logLevel.NOTHING }),
  pool,
  schemas: registrySchemaSource({ url: env.SCHEMA_REGISTRY_URL! }),
  topics: { users: env.SINK_TEST_USERS!, logins: env.SINK_TEST_LOGINS!, deadLetter: env.SINK_TEST_DLQ! },
  tables: {
    users: { schema: 'public', name: env.SINK_TEST_USERS_TABLE! },
    logins: { schema: 'public', name: env.SINK_TEST_LOGINS_TABLE! },
  },
  groupId: env.SINK_TEST_GROUP!,
  streams: [USERS, LOGINS],
  // the broker's minimum: the dead member leaves the group soon, so the restarted sink takes over quickly
  tuning: { sessionTimeoutMs: 6000 },
  hooks: { afterDatabaseCommit: () => void process.kill(process.pid, 'SIGKILL') },
  onUserRemoved: 'keep', // as the fault suite's own sink (fault-harness.ts)
});
sink.start().catch((err) => {
  process.stderr.write(`sink-process: ${(err as Error).message}\n`);
  process.exit(3);
});
