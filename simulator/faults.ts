/**
 * Injected faults. Each fault fires on the next request it applies to, `times` times, in the
 * order faults were injected; different kinds apply to different requests (see SimFault).
 */
import { SimFault } from './api';

type Kind = SimFault['kind'];
type Entry = { fault: SimFault; remaining: number };

export class Faults {
  private queue: Entry[] = [];

  inject(fault: SimFault): void {
    const times = 'times' in fault && fault.times !== undefined ? fault.times : 1;
    if (!Number.isInteger(times) || times < 1) throw new Error(`simulator: fault times must be a positive integer`);
    this.queue.push({ fault, remaining: times });
  }

  clear(): void {
    this.queue = [];
  }

  /** Consumes one firing of the first queued fault of `kind` that `applies`, if any. */
  take<K extends Kind>(
    kind: K,
    applies: (f: Extract<SimFault, { kind: K }>) => boolean = () => true,
  ): Extract<SimFault, { kind: K }> | undefined {
    const i = this.queue.findIndex((e) => e.fault.kind === kind && applies(e.fault as Extract<SimFault, { kind: K }>));
    if (i < 0) return undefined;
    const e = this.queue[i];
    if (--e.remaining === 0) this.queue.splice(i, 1);
    return e.fault as Extract<SimFault, { kind: K }>;
  }

  /** The first queued fault among `kinds` that applies (by injection order), consumed. */
  takeFirst(kinds: Kind[], applies: (f: SimFault) => boolean = () => true): SimFault | undefined {
    const i = this.queue.findIndex((e) => kinds.includes(e.fault.kind) && applies(e.fault));
    if (i < 0) return undefined;
    const e = this.queue[i];
    if (--e.remaining === 0) this.queue.splice(i, 1);
    return e.fault;
  }
}
