import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { CACHE_DIR, VERSIONS } from '../infra/env';
import { findJava } from '../infra/java';
import { isAlive, run, spawnDetached, stopPid, waitUntil } from '../infra/proc';

/**
 * A Kafka broker of one test's own (single node, KRaft), for fault tests that stop and restart
 * it: its own ports and data directory under the system temp dir, the jars the shared test
 * broker already uses (test/infra/kafka.ts fetched them). The shared broker is never touched.
 * Only the process this helper started is ever stopped, by its pid.
 */
export class DedicatedKafka {
  private pid: number | undefined;
  private readonly home = fs.mkdtempSync(path.join(os.tmpdir(), 'neurons-test-kafka-'));
  private readonly libs = path.join(CACHE_DIR, `kafka-${VERSIONS.kafka}`, 'libs');
  private ports: { broker: number; controller: number } | undefined;

  get brokers(): string {
    return `127.0.0.1:${this.ports!.broker}`;
  }

  /** Starts the broker (formatting its storage on the first start) and waits until it answers. */
  async start(): Promise<void> {
    if (!fs.existsSync(path.join(this.libs, '.complete'))) throw new Error(`Kafka jars are missing at ${this.libs}: run the integration tier once (its global set-up fetches them)`);
    const java = findJava(17, 'KAFKA_JAVA_HOME');
    const cp = `${this.libs}/*`;
    const props = path.join(this.home, 'server.properties');
    const log4j = path.join(this.home, 'log4j.properties');
    if (!this.ports) {
      this.ports = { broker: await freePort(), controller: await freePort() };
      fs.writeFileSync(props, properties(this.ports, path.join(this.home, 'data')));
      fs.writeFileSync(log4j, 'log4j.rootLogger=WARN, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\nlog4j.appender.stdout.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n');
      const id = run(java, ['-cp', cp, 'kafka.tools.StorageTool', 'random-uuid'], { what: 'kafka storage random-uuid' }).trim().split('\n').pop()!;
      run(java, ['-cp', cp, `-Dlog4j.configuration=file:${log4j}`, 'kafka.tools.StorageTool', 'format', '-t', id, '-c', props, '--ignore-formatted'], { what: 'kafka storage format' });
    }
    const proc = spawnDetached(java, ['-Xmx512m', '-XX:+UseG1GC', `-Dlog4j.configuration=file:${log4j}`, '-cp', cp, 'kafka.Kafka', props], { logFile: path.join(this.home, 'kafka.log') });
    this.pid = proc.pid;
    await waitUntil(() => this.ready(), { timeoutMs: 90_000, what: `dedicated Kafka (pid ${proc.pid})`, alive: () => isAlive(proc.pid), logFile: proc.logFile });
  }

  /** Stops the broker this helper started (SIGTERM: a controlled shutdown) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.pid !== undefined) await stopPid(this.pid, 'SIGTERM', 30_000);
    this.pid = undefined;
  }

  async remove(): Promise<void> {
    await this.stop();
    fs.rmSync(this.home, { recursive: true, force: true });
  }

  private async ready(): Promise<boolean> {
    const admin = new Kafka({ clientId: 'dedicated-probe', brokers: [this.brokers], logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0 && cluster.controller !== null;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

function properties(ports: { broker: number; controller: number }, dataDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${ports.controller}`,
    `listeners=PLAINTEXT://127.0.0.1:${ports.broker},CONTROLLER://127.0.0.1:${ports.controller}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${ports.broker}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
