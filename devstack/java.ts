import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Finds a Java runtime of at least the given major version. Kafka 3.9 and 4.x run on 17; Apicurio
 * Registry 3.3 is compiled for 21. Looks at an explicit variable first, then JAVA_HOME, the
 * `java` on PATH and every JDK under /usr/lib/jvm.
 */
export function findJava(minMajor: number, explicitVar?: string): string {
  const candidates: string[] = [];
  const fromVar = explicitVar ? process.env[explicitVar] : undefined;
  if (fromVar) candidates.push(path.join(fromVar, 'bin', 'java'));
  if (process.env.JAVA_HOME) candidates.push(path.join(process.env.JAVA_HOME, 'bin', 'java'));
  candidates.push('java');
  const jvmDir = '/usr/lib/jvm';
  if (fs.existsSync(jvmDir)) {
    for (const d of fs.readdirSync(jvmDir).sort().reverse()) candidates.push(path.join(jvmDir, d, 'bin', 'java'));
  }
  const seen: string[] = [];
  for (const java of candidates) {
    const major = javaMajor(java);
    if (major === undefined) continue;
    if (major >= minMajor) return java;
    seen.push(`${java} (${major})`);
  }
  const hint = explicitVar ? `, or point ${explicitVar} at its home` : '';
  throw new Error(
    `Java ${minMajor} or newer is needed and was not found (seen: ${seen.join(', ') || 'none'}). ` +
      `Install a JDK ${minMajor}+ ` +
      `(Debian: apt-get install openjdk-${Math.max(minMajor, 17)}-jre-headless, or Temurin)${hint}.`,
  );
}

function javaMajor(java: string): number | undefined {
  const res = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) return undefined;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(res.stderr);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 ? Number(m[2]) : first;
}

/** Maven fetches Kafka and Apicurio from Maven Central; fail with the fix when it is missing. */
export function requireMaven(): string {
  const res = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    throw new Error(
      'Maven (mvn) is needed to fetch Kafka and Apicurio Registry from Maven Central. ' +
        'Install it (Debian: apt-get install maven) and run again.',
    );
  }
  return 'mvn';
}
