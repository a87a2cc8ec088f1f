import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CACHE_DIR, VERSIONS } from '../../devstack/env';
import { findJava } from '../../devstack/java';
import { isAlive, spawnDetached, stopPid, waitUntil } from '../../devstack/proc';
import { freePort } from '../../kernel/net';
import { registryClient } from '../../schemas/registry-client';

/**
 * An Apicurio Registry of one test's own (in-memory, like the shared one; test/infra/registry.ts
 * installed it), for the sink tests that restart it empty. Its own free ports; only the process
 * this helper started is ever stopped, by its pid. The shared registry is never touched.
 */
export class DedicatedRegistry {
  private pid: number | undefined;
  private ports: { http: number; management: number } | undefined;
  private readonly logFile = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), 'neurons-test-registry-')),
    'apicurio.log',
  );

  get url(): string {
    return `http://127.0.0.1:${this.ports!.http}/apis/ccompat/v7`;
  }

  /** Starts it (same ports on a restart) and waits until its ccompat API answers. */
  async start(): Promise<void> {
    const home = path.join(CACHE_DIR, `apicurio-${VERSIONS.apicurio}`);
    if (!fs.existsSync(path.join(home, 'quarkus-run.jar')))
      throw new Error('Apicurio is not installed: run the integration tier once (its global set-up fetches it)');
    this.ports ??= { http: await freePort(), management: await freePort() };
    const proc = spawnDetached(
      findJava(21, 'APICURIO_JAVA_HOME'),
      [
        '-Xmx384m',
        '-XX:TieredStopAtLevel=1',
        '-Dquarkus.http.host=127.0.0.1',
        `-Dquarkus.http.port=${this.ports.http}`,
        '-Dquarkus.management.host=127.0.0.1',
        `-Dquarkus.management.port=${this.ports.management}`,
        '-jar',
        path.join(home, 'quarkus-run.jar'),
      ],
      { cwd: home, logFile: this.logFile },
    );
    this.pid = proc.pid;
    await waitUntil(
      async () => {
        await registryClient({ url: this.url }, { timeoutMs: 2000 }).subjects();
        return true;
      },
      {
        timeoutMs: 180_000,
        what: `dedicated Apicurio (pid ${proc.pid})`,
        alive: () => isAlive(proc.pid),
        logFile: this.logFile,
      },
    );
  }

  /** Stops the process this helper started; an in-memory registry forgets every schema. */
  async stop(): Promise<void> {
    if (this.pid !== undefined) await stopPid(this.pid, 'SIGTERM', 30_000);
    this.pid = undefined;
  }

  async remove(): Promise<void> {
    await this.stop();
    fs.rmSync(path.dirname(this.logFile), { recursive: true, force: true });
  }
}
