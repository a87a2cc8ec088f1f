import { StartedService, stopServices } from '../../devstack/services';

/** Stops exactly the servers global-setup started (by pid); reused ones keep running. */
export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as { __SERVICES__?: StartedService[] }).__SERVICES__ ?? [];
  await stopServices(started);
}
