/**
 * Auto-disable on upstream auth or billing failures (SPEC section 6): the failing secret is
 * disabled with the reason; when no usable secret is left the channel becomes `auto_disabled`.
 * The in-memory snapshot changes at once (routing skips it from the next attempt on); the store
 * is updated in the background and a background probe re-enables what passes again.
 */
import type { GatewayState } from '../state.js';
import type { Candidate } from './router.js';

export function disableSecret(state: GatewayState, pick: Candidate, reason: string): void {
  const ch = pick.channel;
  pick.secret.disabledReason = reason;
  const allDown = ch.secrets.every((s) => s.disabledReason !== null);
  const secrets = ch.record.secrets.map((s, i) =>
    i === pick.secret.index ? { ...s, disabledReason: reason } : s,
  );
  const patch = allDown ? { secrets, status: 'auto_disabled' as const, statusReason: reason } : { secrets };
  state.logger.warn(
    { channel: ch.record.name, key: ch.record.secrets[pick.secret.index]?.masked, reason },
    'auto-disabled',
  );
  void state.store
    .updateChannel(ch.record.id, patch)
    .then(() => state.refresh())
    .catch((err: unknown) =>
      state.logger.error({ err, channel: ch.record.name }, 'could not persist auto-disable'),
    );
}
