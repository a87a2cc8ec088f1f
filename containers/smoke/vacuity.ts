/**
 * A healthcheck that passes when nothing answers is worse than none: it let the registry count as
 * healthy before it listened (a CMD check whose arguments podman split on spaces). Before the
 * stack starts, each service's check, exactly as the resolved compose file gives it, runs in a
 * container of the service's image with the service's environment and host networking, and must
 * fail: nothing is listening yet.
 */
import { podman } from './podman';
import type { Compose } from './compose';

interface ResolvedService {
  image?: string;
  environment?: Record<string, string | null>;
  healthcheck?: { test?: string[]; disable?: boolean };
}

export async function checksFailWithoutTheirService(compose: Compose): Promise<string[]> {
  const text = await compose.run(['config', '--format', 'json'], { quiet: true });
  const config = JSON.parse(text) as { services: Record<string, ResolvedService> };
  const checked: string[] = [];
  for (const [name, svc] of Object.entries(config.services)) {
    const test = svc.healthcheck?.test;
    if (!test || svc.healthcheck?.disable || !svc.image) continue;
    if (test[0] !== 'CMD-SHELL' || test.length !== 2) {
      throw new Error(`${name}: healthcheck ${JSON.stringify(test)} is not one CMD-SHELL string`);
    }
    const env = Object.entries(svc.environment ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v ?? ''}`]);
    const passed = await podman([
      'run',
      '--rm',
      '--network',
      'host',
      ...env,
      '--entrypoint',
      '/bin/sh',
      svc.image,
      '-c',
      `timeout 60 /bin/sh -c '${test[1].replace(/'/g, "'\\''")}'`,
    ]).then(
      () => true,
      () => false,
    );
    if (passed) throw new Error(`${name}: its healthcheck passes with nothing running: ${test[1]}`);
    checked.push(name);
  }
  return checked;
}
