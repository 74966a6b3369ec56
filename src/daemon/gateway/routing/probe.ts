/**
 * The background probe (SPEC section 6): every interval, each auto-disabled channel key is tried
 * with a minimal request; a key that passes is re-enabled, and a channel that was auto-disabled
 * becomes enabled again once one of its keys passes.
 */
import type { GatewayState } from '../state.js';
import { testChannel } from './channel-test.js';

export function startProbe(state: GatewayState, intervalMs: number): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    probeOnce(state)
      .catch((err: unknown) => state.logger.error({ err }, 'probe failed'))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

export async function probeOnce(state: GatewayState): Promise<number> {
  let revived = 0;
  for (const ch of state.snapshot.channels) {
    const rec = ch.record;
    if (rec.status === 'disabled') continue;
    const down = ch.secrets.filter((s) => s.disabledReason !== null);
    if (down.length === 0) continue;
    const passed = new Set<number>();
    for (const s of down) {
      const result = await testChannel(state.upstream, ch, { ...s, disabledReason: null });
      if (result.ok) passed.add(s.index);
    }
    if (passed.size === 0) continue;
    // the record as stored now: the snapshot may not have caught up with the auto-disable yet
    // (a refresh on PostgreSQL takes a round trip), and an edit since must not be written back
    const current = (await state.store.getChannel(rec.id)) ?? rec;
    if (current.status === 'disabled') continue;
    revived += passed.size;
    const secrets = current.secrets.map((s, i) => (passed.has(i) ? { ...s, disabledReason: null } : s));
    const patch =
      current.status === 'auto_disabled'
        ? { secrets, status: 'enabled' as const, statusReason: null }
        : { secrets };
    await state.store.updateChannel(rec.id, patch);
    state.logger.info({ channel: rec.name, keys: passed.size }, 're-enabled after a passing probe');
  }
  if (revived > 0) await state.refresh();
  return revived;
}
