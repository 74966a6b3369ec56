/**
 * When the store cannot record a request, that is the gateway's failure, never the upstream's.
 * Before an attempt, a store known to be failing refuses the request (503 store_unavailable) so
 * no upstream is called for an answer that could not be billed. After the upstream answered, a
 * settlement that fails travels as a SettlementFailure: the relay never retries it on another
 * channel nor cools the channel down, and the client gets the store's clean error in its own
 * protocol (an in-stream error event if the stream had begun), never the internal cause.
 */
import { BcError, isBcError } from '../../../shared/errors.js';
import { storeUnavailable } from '../../store/write-health.js';
import type { RelayContext } from '../context.js';
import type { GatewayState } from '../state.js';
import { settle, type Outcome } from './settle.js';

export class SettlementFailure extends Error {
  constructor(readonly error: BcError) {
    super(error.message);
    this.name = 'SettlementFailure';
  }
}

/** Throws STORE_UNAVAILABLE while the store is known to be failing: call before any upstream call. */
export function refuseWhileStoreFails(state: GatewayState): void {
  if (state.store.writeFault()) throw storeUnavailable();
}

/** Settles; any failure becomes a SettlementFailure holding what the client may see. */
export function settleOrFail(state: GatewayState, ctx: RelayContext, outcome: Outcome): Promise<void> {
  return settle(state, ctx, outcome).catch((err: unknown) => {
    const clean =
      isBcError(err) && err.code === 'STORE_UNAVAILABLE'
        ? err
        : new BcError('INTERNAL', 'internal error: the request could not be recorded');
    throw new SettlementFailure(clean);
  });
}
