/**
 * The gateway's long-lived state shared by every request: the current snapshot and the runtime
 * books that outlive snapshot rebuilds (channel health, weights, rate windows, budget ledger).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Dispatcher } from 'undici';
import { createUpstreamAgent } from './upstream.js';
import type { Store } from '../store/types.js';
import type { SecretBox } from '../secrets.js';
import type { MetricsRecorder } from '../metrics/types.js';
import { HealthBook } from './routing/health.js';
import { Router } from './routing/router.js';
import { RateLimiter } from './money/limits.js';
import { BudgetLedger } from './money/budget-ledger.js';
import type { SharedBudget, SharedRates } from '../coord/coordinator.js';
import type { SharedRedeemWindow } from '../coord/redeem-window.js';

/** What admission and settlement need of the Redis coordinator (coord/). */
export interface SharedBooks {
  budget: SharedBudget;
  rates: SharedRates;
  /** the redemption brake's failure window (tenants/redeem-limits.ts); absent: this node's only */
  redeem?: SharedRedeemWindow;
}
import { emptySnapshot, loadSnapshot, type Snapshot } from './snapshot.js';
import type { IntakeOptions } from './intake/intake-env.js';

/** Relay settings, and the door's (time for a request to arrive, connection and body-read caps). */
export interface GatewayOptions extends IntakeOptions {
  /** retries after the first attempt (SPEC: default 3) */
  retries: number;
  /** body limit in bytes (SPEC: default 32 MiB) */
  bodyLimit: number;
}

export class GatewayState {
  snapshot: Snapshot = emptySnapshot();
  readonly health = new HealthBook();
  readonly router = new Router(this.health);
  readonly limiter = new RateLimiter();
  /** per-user RPM/TPM/concurrency over all of a user's keys (SPEC section 11), by user id */
  readonly userLimiter = new RateLimiter(Date.now, 'user');
  readonly ledger = new BudgetLedger();
  /**
   * The budget and rate books shared by several daemons through Redis (BC_REDIS, SPEC section 9),
   * used by admission and settlement in place of `ledger` and the limiters; null for one daemon
   * on its own, whose books stay the in-memory ones above.
   */
  shared: SharedBooks | null = null;
  requests = 0;
  /** false while draining: /readyz answers 503 */
  accepting = true;
  /** the connection pools every upstream request of this gateway goes through */
  readonly upstream: Dispatcher = createUpstreamAgent();

  constructor(
    readonly store: Store,
    readonly secrets: SecretBox,
    readonly metrics: MetricsRecorder,
    readonly logger: FastifyBaseLogger,
    readonly options: GatewayOptions,
  ) {}

  async refresh(): Promise<void> {
    const snap = await loadSnapshot(this.store, this.secrets);
    for (const k of snap.keysById.values()) this.ledger.load(k.record.id, k.record.spent);
    for (const u of snap.usersById.values()) this.ledger.loadUser(u.id, u.balance);
    this.snapshot = snap;
  }

  /** Closes the upstream connections (after the drain: whatever is still open is abandoned). */
  async close(): Promise<void> {
    await this.upstream.destroy();
  }
}
