import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { CACHE_DIR, PORTS, RUN_DIR, VERSIONS, endpoints } from './env';
import { MAVEN_FLAGS, verifyRepositoryLayout } from './checksum';
import { findJava, requireMaven } from './java';
import { Detached, run, spawnDetached } from './proc';
import type { LocalService } from './service';

/**
 * Apache Kafka, single node in KRaft mode, from Maven Central jars run with Java 17+. The release
 * is VERSIONS.kafka (SF_TEST_KAFKA_VERSION): 4.x by default, 3.9 as the older line still tested.
 */
const LIBS = path.join(CACHE_DIR, `kafka-${VERSIONS.kafka}`, 'libs');
/**
 * The jars' Maven project: libs/ is fetched again when it changes (pomDigest in libs/.complete).
 * Beside this file in the source tree; from a build (dist/devstack), in the source tree's devstack/.
 */
const POMS = [__dirname, path.join(__dirname, '..', '..', 'devstack')].map((dir) =>
  path.join(dir, 'kafka', VERSIONS.kafka, 'pom.xml'),
);
const POM = POMS.find((f) => fs.existsSync(f)) ?? POMS[0];
const HOME = path.join(RUN_DIR, 'kafka');

export const kafka: LocalService = {
  name: `Kafka ${VERSIONS.kafka}`,

  ready: () => kafkaAnswers(endpoints().KAFKA_BROKERS),

  install() {
    if (kafkaInstalled()) return;
    requireMaven();
    const tmp = `${LIBS}.partial`;
    const layout = `${LIBS}.download`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(layout, { recursive: true, force: true });
    run(
      'mvn',
      [
        ...MAVEN_FLAGS,
        '-f',
        POM,
        'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
        '-DincludeScope=runtime',
        '-Dmdep.useRepositoryLayout=true',
        `-DoutputDirectory=${layout}`,
      ],
      { what: `Fetching Kafka ${VERSIONS.kafka} jars from Maven Central` },
    );
    // Each jar against Central's published checksum, then flat into libs/ (the class path).
    fs.mkdirSync(tmp, { recursive: true });
    const jars = verifyRepositoryLayout(layout).filter((f) => f.endsWith('.jar'));
    for (const jar of jars) fs.renameSync(jar, path.join(tmp, path.basename(jar)));
    fs.rmSync(layout, { recursive: true, force: true });
    fs.writeFileSync(path.join(tmp, '.complete'), `${new Date().toISOString()} ${pomDigest()}\n`);
    fs.rmSync(LIBS, { recursive: true, force: true });
    fs.renameSync(tmp, LIBS);
  },

  async start(): Promise<Detached> {
    // A fresh cluster each time this script starts one: tests use random topic names, and a
    // fresh log directory cannot carry a stale cluster id from an earlier run.
    fs.rmSync(HOME, { recursive: true, force: true });
    const props = formatKafkaHome(HOME, { broker: PORTS.kafka, controller: PORTS.kafkaController });
    return startKafkaProcess(HOME, props, path.join(RUN_DIR, 'kafka.log'));
  },

  readyTimeoutMs: 90_000,
};

export interface KafkaPorts {
  broker: number;
  controller: number;
}

/** True when a broker answers a metadata request at `brokers` and the cluster has a controller. */
export async function kafkaAnswers(brokers: string, sasl?: SaslUser): Promise<boolean> {
  const client = new Kafka({
    clientId: 'infra-probe',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
    ...(sasl ? { sasl: { mechanism: 'plain' as const, ...sasl } } : {}),
  });
  const admin = client.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A SASL/PLAIN user a broker accepts (tests of secrets that travel to Kafka). */
export interface SaslUser {
  username: string;
  password: string;
}

/**
 * Writes server.properties and the logging configuration into `home` and formats its storage.
 * `sasl`: the broker's client listener is SASL_PLAINTEXT with PLAIN, accepting that one user.
 * Returns the properties path.
 */
export function formatKafkaHome(home: string, ports: KafkaPorts, sasl?: SaslUser, level: LogLevel = 'warn'): string {
  const java = findJava(17, 'KAFKA_JAVA_HOME');
  fs.mkdirSync(home, { recursive: true });
  const props = path.join(home, 'server.properties');
  fs.writeFileSync(props, serverProperties(ports, path.join(home, 'data'), sasl), { mode: 0o600 });
  const log = logging(home, level);
  fs.writeFileSync(log.file, log.text);
  const clusterId = run(java, ['-cp', `${LIBS}/*`, log.flag, 'kafka.tools.StorageTool', 'random-uuid'], {
    what: 'kafka storage random-uuid',
  })
    .trim()
    .split('\n')
    .pop()!;
  run(
    java,
    [
      '-cp',
      `${LIBS}/*`,
      log.flag,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      props,
      '--ignore-formatted',
    ],
    { what: 'kafka storage format' },
  );
  return props;
}

/** Starts a broker on a formatted home (detached); it is ready when kafkaAnswers says so. */
export function startKafkaProcess(home: string, props: string, logFile: string): Detached {
  const java = findJava(17, 'KAFKA_JAVA_HOME');
  return spawnDetached(
    java,
    ['-Xmx768m', '-XX:+UseG1GC', logging(home).flag, '-cp', `${LIBS}/*`, 'kafka.Kafka', props],
    { logFile },
  );
}

/** How much a broker logs: warnings and errors (the shared brokers), or its INFO lines too (a test's own broker). */
type LogLevel = 'warn' | 'info';

/** `level` and above to stdout: Kafka 3.x logs through log4j 1 (reload4j), 4.x through log4j 2. */
function logging(home: string, level: LogLevel = 'warn'): { file: string; text: string; flag: string } {
  if (VERSIONS.kafka.startsWith('3.')) {
    const file = path.join(home, 'log4j.properties');
    const text =
      `log4j.rootLogger=${level.toUpperCase()}, stdout\n` +
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n' +
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n' +
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n';
    return { file, text, flag: `-Dlog4j.configuration=file:${file}` };
  }
  const file = path.join(home, 'log4j2.properties');
  const text =
    'status = warn\nappender.stdout.type = Console\nappender.stdout.name = STDOUT\n' +
    'appender.stdout.layout.type = PatternLayout\nappender.stdout.layout.pattern = [%d] %p %m (%c)%n\n' +
    `rootLogger.level = ${level}\nrootLogger.appenderRef.stdout.ref = STDOUT\n`;
  return { file, text, flag: `-Dlog4j2.configurationFile=${file}` };
}

/** True when the Kafka jars are in the cache (the integration tier's set-up fetches them). */
export function kafkaInstalled(): boolean {
  const complete = path.join(LIBS, '.complete');
  return fs.existsSync(complete) && fs.readFileSync(complete, 'utf8').includes(pomDigest());
}

/** '' where the pom is not beside this file (a build without it): then any complete libs/ will do. */
function pomDigest(): string {
  try {
    return createHash('sha256').update(fs.readFileSync(POM)).digest('hex');
  } catch {
    return '';
  }
}

function serverProperties(ports: KafkaPorts, dataDir: string, sasl?: SaslUser): string {
  const client = sasl ? 'SASL_PLAINTEXT' : 'PLAINTEXT';
  // JAAS quotes the values: a password with " or \ would need escaping the tests never need.
  const jaas = (u: SaslUser) =>
    'org.apache.kafka.common.security.plain.PlainLoginModule required ' +
    `username="${u.username}" password="${u.password}" user_${u.username}="${u.password}";`;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${ports.controller}`,
    `listeners=${client}://127.0.0.1:${ports.broker},CONTROLLER://127.0.0.1:${ports.controller}`,
    `advertised.listeners=${client}://127.0.0.1:${ports.broker}`,
    'controller.listener.names=CONTROLLER',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,${client}:${client}`,
    ...(sasl
      ? [
          `inter.broker.listener.name=${client}`,
          'sasl.enabled.mechanisms=PLAIN',
          'sasl.mechanism.inter.broker.protocol=PLAIN',
          `listener.name.sasl_plaintext.plain.sasl.jaas.config=${jaas(sasl)}`,
        ]
      : []),
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // compaction is exercised by the tests: let the cleaner look often
    'log.cleaner.backoff.ms=1000',
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}
