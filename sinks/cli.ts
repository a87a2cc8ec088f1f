/**
 * The sink on its own, configured from the environment:
 *
 *   node -r ts-node/register/transpile-only sinks/cli.ts run              # consume until SIGINT/SIGTERM
 *   node -r ts-node/register/transpile-only sinks/cli.ts replay [--only <stream>]   # users, logins, …
 *
 * KAFKA_BROKERS (host:port,…), SCHEMA_REGISTRY_URL (required); DATABASE_URL (empty: embedded
 * PostgreSQL under SINK_DATA_DIR); SINK_GROUP_ID, SINK_USERS_TOPIC, SINK_LOGINS_TOPIC,
 * SINK_DEAD_LETTER_TOPIC, SINK_TABLE_SCHEMA, SINK_USERS_TABLE, SINK_LOGINS_TABLE (optional).
 * Exit codes: 0 done, 1 failed (the reason is logged), 2 bad usage or configuration.
 */
import { ConnectorError } from '../kernel/errors';
import { createLogger } from '../kernel/logger';
import { STREAMS } from '../schemas/streams';
import { fromConfig, replayFromConfig, type PostgresSinkConfig } from './index';

function configFromEnv(env: NodeJS.ProcessEnv): PostgresSinkConfig {
  return {
    kafka: {
      brokers: (env.KAFKA_BROKERS ?? '')
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      clientId: 'neurons-postgres-sink',
    },
    registry: { url: env.SCHEMA_REGISTRY_URL ?? '' },
    databaseUrl: env.DATABASE_URL || undefined,
    embedded: { dataDir: env.SINK_DATA_DIR || undefined },
    topics: {
      users: env.SINK_USERS_TOPIC || undefined,
      logins: env.SINK_LOGINS_TOPIC || undefined,
      deadLetter: env.SINK_DEAD_LETTER_TOPIC || undefined,
    },
    tables: {
      schema: env.SINK_TABLE_SCHEMA || undefined,
      users: env.SINK_USERS_TABLE || undefined,
      logins: env.SINK_LOGINS_TABLE || undefined,
    },
    groupId: env.SINK_GROUP_ID || undefined,
  };
}

async function main(argv: string[]): Promise<number> {
  const logger = createLogger({ secrets: [process.env.DATABASE_URL ?? ''].filter(Boolean) });
  const [command, ...rest] = argv;
  const config = configFromEnv(process.env);
  if (command === 'run') {
    const sink = fromConfig(config, { logger });
    await sink.start();
    const stop = () => void sink.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await sink.done;
    logger.info('sink stopped', { ...sink.stats() });
    return 0;
  }
  if (command === 'replay') {
    const i = rest.indexOf('--only');
    const only = i >= 0 ? rest[i + 1] : undefined;
    const names = STREAMS.map((s) => s.name);
    if (only !== undefined && !names.includes(only))
      throw new UsageError(`--only takes a declared stream: ${names.join(', ')}`);
    const result = await replayFromConfig(config, {
      logger,
      only: only ? [only] : undefined,
      onProgress: (p) =>
        process.stdout.write(
          `replay ${p.phase}: ${p.records} records, ${p.recordsPerSecond} records/s, ` +
            `lag ${Number.isNaN(p.lag) ? '?' : p.lag}, ${(p.elapsedMs / 1000).toFixed(1)} s\n`,
        ),
    });
    for (const [live, built] of Object.entries(result.swapped))
      process.stdout.write(`replay swapped in ${live} (built as ${built})\n`);
    return 0;
  }
  throw new UsageError(`unknown command ${command ?? '(none)'}: use run or replay`);
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const usage = err instanceof UsageError || (err instanceof ConnectorError && err.code === 'CONFIG_INVALID');
    process.stderr.write(`${usage ? 'usage' : 'failed'}: ${(err as Error).message}\n`);
    process.exit(usage ? 2 : 1);
  },
);
