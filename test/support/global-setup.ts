import { ensureServices } from '../../devstack/services';

/**
 * Jest global set-up of the integration tier: starts Kafka, Apicurio Registry and PostgreSQL
 * when they are not already running, and hands their endpoints to the tests through the
 * environment (test workers inherit it). A missing Java, Maven or download fails here, with
 * the reason and the fix: the integration tests never skip themselves.
 */
export default async function globalSetup(): Promise<void> {
  const t0 = Date.now();
  const handle = await ensureServices((line) => process.stderr.write(`[services] ${line}\n`));
  Object.assign(process.env, handle.endpoints);
  (globalThis as { __SERVICES__?: unknown }).__SERVICES__ = handle.started;
  process.stderr.write(
    `[services] ready in ${Date.now() - t0} ms (started: ${handle.started.map((s) => s.name).join(', ') || 'none'})\n`,
  );
}
