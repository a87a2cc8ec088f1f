import type { Detached } from './proc';

/** One local server the tests need. */
export interface LocalService {
  name: string;
  /** True when a server answers real requests at the configured port. Never throws. */
  ready(): Promise<boolean>;
  /** Downloads what the server needs into the cache, when it is not there yet. */
  install(): void;
  /** Starts the server detached (it is not ready yet when this resolves). */
  start(): Promise<Detached>;
  /** How long a start may take before it counts as failed. */
  readyTimeoutMs: number;
  /** The signal that stops it cleanly and promptly (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}
