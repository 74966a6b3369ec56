/**
 * How the daemon stops and reloads. A stop is requested once (SIGTERM, SIGINT, or the control
 * route `POST /v1/shutdown`); a second SIGINT forces an immediate exit; SIGHUP reloads. The drain
 * closes the listeners at once, lets in-flight requests and streams finish until the deadline,
 * then cuts what is left. Handlers are installed before startup so a signal during startup is
 * honoured after it (and SIGHUP never kills a daemon that is still opening its store).
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

export const DEFAULT_DRAIN_MS = 30_000;
/** Keep-alive connections that went idle during the drain are closed this often. */
const IDLE_SWEEP_MS = 100;

export class StopRequest {
  private reasonText: string | undefined;
  private resolveStop: (reason: string) => void = () => undefined;
  /** resolves with the reason once a stop is requested */
  readonly requested: Promise<string>;

  constructor() {
    this.requested = new Promise((resolve) => {
      this.resolveStop = resolve;
    });
  }

  get reason(): string | undefined {
    return this.reasonText;
  }

  /** Returns false when a stop was already under way. */
  request(reason: string): boolean {
    if (this.reasonText !== undefined) return false;
    this.reasonText = reason;
    this.resolveStop(reason);
    return true;
  }
}

export interface SignalHooks {
  stop: StopRequest;
  /** SIGHUP once the daemon is up */
  onReload(): void;
  /** a second SIGINT while stopping */
  onForce(): void;
  /** the logger, once there is one */
  log(): Logger | undefined;
}

/** Installs SIGTERM/SIGINT/SIGHUP handlers; returns the function that removes them. */
export function installSignalHandlers(hooks: SignalHooks): () => void {
  const onTerm = (signal: NodeJS.Signals): void => {
    if (hooks.stop.request(signal)) {
      hooks.log()?.info({ signal }, 'stopping: draining in-flight requests');
    } else if (signal === 'SIGINT') {
      hooks.log()?.warn({ signal }, 'second SIGINT: exiting now');
      hooks.onForce();
    } else {
      hooks.log()?.info({ signal }, 'already stopping');
    }
  };
  const onHup = (): void => {
    if (hooks.stop.reason === undefined) hooks.onReload();
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  process.on('SIGHUP', onHup);
  return () => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onTerm);
    process.off('SIGHUP', onHup);
  };
}

/**
 * Stops both apps accepting, drains the gateway until `drainMs`, then force-closes what remains.
 * The control app closes alongside; its long-lived connections (metrics streams) are cut once the
 * gateway is done, since nothing on them needs finishing.
 */
export async function drainApps(
  gateway: FastifyInstance,
  control: FastifyInstance,
  drainMs: number,
  log: Logger,
): Promise<void> {
  const started = Date.now();
  const sweep = setInterval(() => {
    gateway.server.closeIdleConnections();
    control.server.closeIdleConnections();
  }, IDLE_SWEEP_MS);
  try {
    const gatewayClosed = gateway.close();
    const controlClosed = control.close();
    const drained = await withDeadline(gatewayClosed, drainMs);
    if (!drained) {
      log.warn({ drain_ms: drainMs }, 'drain deadline passed: closing the remaining connections');
      gateway.server.closeAllConnections();
      await gatewayClosed;
    }
    if (!(await withDeadline(controlClosed, IDLE_SWEEP_MS * 2))) {
      control.server.closeAllConnections();
      await controlClosed;
    }
  } finally {
    clearInterval(sweep);
  }
  log.info({ drain_ms: Date.now() - started }, 'listeners closed');
}

/** Resolves true when `p` settles before `ms`, false otherwise (p keeps running). */
async function withDeadline(p: PromiseLike<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([Promise.resolve(p).then(() => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
