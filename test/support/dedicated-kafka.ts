import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  formatKafkaHome,
  kafkaAnswers,
  kafkaInstalled,
  startKafkaProcess,
  type KafkaPorts,
} from '../../devstack/kafka';
import { isAlive, stopPid, waitUntil } from '../../devstack/proc';
import { freePort } from '../../kernel/net';

/**
 * A Kafka broker of one test's own (single node, KRaft), for fault tests that stop and restart
 * it: its own ports and data directory under the system temp dir, the jars the shared test
 * broker already uses (devstack/kafka.ts fetched them). The shared broker is never touched.
 * Only the process this helper started is ever stopped, by its pid.
 */
export class DedicatedKafka {
  private pid: number | undefined;
  private readonly home = fs.mkdtempSync(path.join(os.tmpdir(), 'neurons-test-kafka-'));
  private ports: KafkaPorts | undefined;
  private props: string | undefined;

  get brokers(): string {
    return `127.0.0.1:${this.ports!.broker}`;
  }

  /** Starts the broker (formatting its storage on the first start) and waits until it answers. */
  async start(): Promise<void> {
    if (!kafkaInstalled())
      throw new Error('Kafka jars are missing: run the integration tier once (its global set-up fetches them)');
    if (!this.ports) this.ports = { broker: await freePort(), controller: await freePort() };
    // INFO: a fault test's failure message quotes this log (logTail), and warnings alone said nothing
    if (!this.props) this.props = formatKafkaHome(this.home, this.ports, undefined, 'info');
    const proc = startKafkaProcess(this.home, this.props, path.join(this.home, 'kafka.log'));
    this.pid = proc.pid;
    await waitUntil(() => kafkaAnswers(this.brokers), {
      timeoutMs: 90_000,
      what: `dedicated Kafka (pid ${proc.pid})`,
      alive: () => isAlive(proc.pid),
      logFile: proc.logFile,
    });
  }

  /** Stops the broker this helper started (SIGTERM: a controlled shutdown) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.pid !== undefined) await stopPid(this.pid, 'SIGTERM', 30_000);
    this.pid = undefined;
  }

  /** The last `lines` lines of the broker's log (all its starts), for a test's failure message. */
  logTail(lines = 40): string {
    try {
      return fs.readFileSync(path.join(this.home, 'kafka.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch (err) {
      return `(no log: ${(err as Error).message})`;
    }
  }

  async remove(): Promise<void> {
    await this.stop();
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}
