/**
 * How the daemon asks V8 to size its heap (`bc daemon` only; set at run time through V8 flags
 * that V8 reads at every collection).
 *
 * Start-up: loading the daemon (modules, schema, routes, the store) allocates tens of MB that die
 * at once. V8 answers such a burst by growing the young generation to 8 MB semi-spaces and keeps
 * that size until a collection finds the process idle, which an idle daemon never triggers: about
 * 14 MB of RSS held for nothing. So the young generation is held at its initial size while the
 * daemon loads, and V8's own growth (factor 2) is restored once it is ready.
 *
 * Under load: between full collections V8 lets the old generation grow to up to 4x what was live
 * after the last one. A gateway promotes a steady stream of short-lived request and stream state
 * (whatever outlives two scavenges: a request waiting 60 ms on its upstream does), so under a
 * burst most of that headroom fills with garbage: with 1,000 streams open, RSS peaked 110 MB above
 * what was live. The daemon caps the growth at 2x. Full collections come about three times as
 * often under heavy load (at 2,000 req/s, one every 0.35 s instead of every 1 s, each a few ms of
 * pause, the marking mostly incremental) and the 1,000 streams peak about 60 MB lower.
 */
import v8 from 'node:v8';

/** The old generation may grow to this much more than was live after the last full collection. */
const OLD_GENERATION_GROWTH_PERCENT = 100;
/** V8's default young-generation growth factor, restored once the daemon is ready. */
const V8_SEMI_SPACE_GROWTH_FACTOR = 2;

let loading = false;

/** Called before the daemon's modules load. */
export function applyStartupHeapPolicy(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  loading = true;
}

/** Called once the daemon is ready; nothing to do when start-up did not apply the policy. */
export function heapPolicyReady(): void {
  if (!loading) return;
  v8.setFlagsFromString(`--semi-space-growth-factor=${V8_SEMI_SPACE_GROWTH_FACTOR}`);
  loading = false;
}
