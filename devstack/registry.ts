import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, PORTS, RUN_DIR, VERSIONS, endpoints } from './env';
import { MAVEN_FLAGS, MAVEN_REPO, verifyPublishedChecksum } from './checksum';
import { findJava, requireMaven } from './java';
import { Detached, run, spawnDetached } from './proc';
import type { LocalService } from './service';
import { registryClient } from '../schemas/registry-client';

/**
 * Apicurio Registry 3.x (in-memory storage) from Maven Central, reached through its
 * Confluent-compatible API at /apis/ccompat/v7. 3.3.x is compiled for Java 21.
 */
const ARCHIVE_DIR = path.join(CACHE_DIR, 'dl');
const HOME = path.join(CACHE_DIR, `apicurio-${VERSIONS.apicurio}`);

export const registry: LocalService = {
  name: `Apicurio Registry ${VERSIONS.apicurio}`,

  async ready() {
    // Answering the subject list through the one registry client is ready; a refusal throws.
    await registryClient({ url: endpoints().SCHEMA_REGISTRY_URL }).subjects();
    return true;
  },

  install() {
    if (fs.existsSync(path.join(HOME, 'quarkus-run.jar'))) return;
    const archive = path.join(ARCHIVE_DIR, `apicurio-registry-app-${VERSIONS.apicurio}-all.tar.gz`);
    if (!fs.existsSync(archive)) {
      requireMaven();
      run(
        'mvn',
        [
          ...MAVEN_FLAGS,
          'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy',
          `-Dartifact=io.apicurio:apicurio-registry-app:${VERSIONS.apicurio}:tar.gz:all`,
          `-DoutputDirectory=${ARCHIVE_DIR}`,
        ],
        { what: `Fetching Apicurio Registry ${VERSIONS.apicurio} from Maven Central` },
      );
    }
    // Checked before unpacking, also when the archive was already in the cache.
    const v = VERSIONS.apicurio;
    const published = path.join(
      MAVEN_REPO,
      'io',
      'apicurio',
      'apicurio-registry-app',
      v,
      `apicurio-registry-app-${v}-all.tar.gz`,
    );
    verifyPublishedChecksum(archive, published);
    const tmp = `${HOME}.partial`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    run('tar', ['-xzf', archive, '-C', tmp], { what: 'Unpacking Apicurio Registry' });
    fs.rmSync(HOME, { recursive: true, force: true });
    fs.renameSync(tmp, HOME);
  },

  async start(): Promise<Detached> {
    const java = findJava(21, 'APICURIO_JAVA_HOME');
    fs.mkdirSync(RUN_DIR, { recursive: true });
    return spawnDetached(
      java,
      [
        '-Xmx512m',
        // the registry is a short-lived test server: C1 only starts it faster on 2 cores
        '-XX:TieredStopAtLevel=1',
        '-Dquarkus.http.host=127.0.0.1',
        `-Dquarkus.http.port=${PORTS.registry}`,
        // the management interface otherwise binds 0.0.0.0:9000
        '-Dquarkus.management.host=127.0.0.1',
        `-Dquarkus.management.port=${PORTS.registryManagement}`,
        '-jar',
        path.join(HOME, 'quarkus-run.jar'),
      ],
      { cwd: HOME, logFile: path.join(RUN_DIR, 'apicurio.log') },
    );
  },

  readyTimeoutMs: 120_000,
};
