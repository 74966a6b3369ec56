/**
 * Gives the heap a burst of traffic grew back to the OS once the daemon goes quiet (`bc daemon`
 * only, started with the heap policy).
 *
 * V8 shrinks a heap that has stopped growing through its memory reducer, which starts only when
 * its estimate of the allocation rate falls low. That estimate is updated at collections, and an
 * idle daemon collects almost never, so after a 10-minute soak at 500 req/s the heap stayed at its
 * working size (about 65 MB committed for 15 MB live, 45 MB of RSS) for 10 to 60 s, varying from
 * run to run, before the reducer ran.
 *
 * Here the daemon watches its own event loop: once it has been idle (under 2 % busy) for six
 * checks in a row, 30 s, while the committed heap stands at least 16 MiB above where it settled
 * last, it sends V8 a low-memory notification (the reducer's own compacting collections, run
 * now), through an in-process inspector session, which opens no port. It costs tens of ms on a
 * loop with nothing to do, once per burst: the next check sees the heap back at its settled size.
 *
 * Why 30 s and not less: a trimmed heap starts the next burst cold (V8 also drops compiled code
 * in such collections, and the young generation has to grow again). With bursts of c=256 every
 * 25 s and a 10 s quiet period, the gateway served 0.70x the floor's RPS in the first 8 s of each
 * burst against 0.81x untrimmed; traffic that pauses for less than 30 s keeps its warm heap.
 */
import inspector from 'node:inspector';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import v8 from 'node:v8';

const MIB = 1024 * 1024;

export interface IdleTrimOptions {
  /** how often the loop's utilisation and the heap are checked; default 5 s */
  checkMs?: number;
  /** consecutive idle checks before a trim; default 6 (30 s at the default check interval) */
  quietChecks?: number;
  /** the busy share of an interval under which it counts as idle; default 0.02 */
  idleUtilisation?: number;
  /** how far the committed heap must stand above its settled size to be worth a trim; default 16 MiB */
  minExcessBytes?: number;
  /** after each trim: the committed heap before and after, in bytes */
  onTrim?: (before: number, after: number) => void;
}

/** What the decision needs to know: the options' values, defaults applied. */
export interface IdleTrimPolicy {
  quietChecks: number;
  idleUtilisation: number;
  minExcessBytes: number;
  onTrim?: ((before: number, after: number) => void) | undefined;
}

/** The parts the decision reads and acts through, replaceable by tests. */
export interface IdleTrimProbes {
  /** the event loop's busy share since the previous call, 0 to 1 */
  utilisation(): number;
  /** the committed heap, in bytes */
  heapBytes(): number;
  /** asks V8 to release what it can, now */
  trim(): Promise<void>;
}

/** The decision, one check at a time: trims once the loop is quiet and the heap has grown. */
export class IdleTrim {
  private quiet = 0;
  private settled: number;
  private busy = false;
  trims = 0;

  constructor(
    private readonly probes: IdleTrimProbes,
    private readonly opts: IdleTrimPolicy,
  ) {
    this.settled = probes.heapBytes();
  }

  /** One check; resolves once a trim it started has finished. */
  async check(): Promise<void> {
    if (this.busy) return;
    const heap = this.probes.heapBytes();
    // V8 shrank the heap itself (its own reducer): that is the new settled size
    if (heap < this.settled) this.settled = heap;
    this.quiet = this.probes.utilisation() < this.opts.idleUtilisation ? this.quiet + 1 : 0;
    if (this.quiet < this.opts.quietChecks || heap - this.settled < this.opts.minExcessBytes) return;
    this.busy = true;
    try {
      await this.probes.trim();
    } finally {
      this.busy = false;
    }
    this.trims++;
    this.quiet = 0;
    this.settled = this.probes.heapBytes();
    this.opts.onTrim?.(heap, this.settled);
  }
}

/** The real probes: perf_hooks' event loop utilisation, V8's heap statistics, the inspector. */
export function processProbes(): IdleTrimProbes {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return {
    utilisation() {
      const now = performance.eventLoopUtilization();
      const share = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      return share;
    },
    heapBytes: () => v8.getHeapStatistics().total_heap_size,
    trim: lowMemoryNotification,
  };
}

/** V8's LowMemoryNotification, which Node exposes only through the inspector protocol. */
function lowMemoryNotification(): Promise<void> {
  return new Promise((resolve) => {
    const session = new inspector.Session();
    session.connect();
    // disconnecting inside the callback leaves the session holding the process open: do it after
    session.post('HeapProfiler.collectGarbage', () =>
      setImmediate(() => {
        session.disconnect();
        resolve();
      }),
    );
  });
}

/** Starts the checks on an unreferenced timer; returns the decision and a stop function. */
export function startIdleTrim(opts: IdleTrimOptions = {}): { trim: IdleTrim; stop: () => void } {
  const trim = new IdleTrim(processProbes(), {
    quietChecks: opts.quietChecks ?? 6,
    idleUtilisation: opts.idleUtilisation ?? 0.02,
    minExcessBytes: opts.minExcessBytes ?? 16 * MIB,
    onTrim: opts.onTrim,
  });
  const timer = setInterval(() => void trim.check(), opts.checkMs ?? 5000);
  timer.unref();
  return { trim, stop: () => clearInterval(timer) };
}
