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
 *
 * After a burst: the young generation a burst grew (tens of MB) stays committed until the next
 * collection, and an idle daemon makes almost none; V8's memory reducer, which would shrink it,
 * waits until its allocation-rate estimate falls, and that estimate moves only at collections
 * (10 to 60 s after a soak here). So once the event loop has been idle for two 5 s checks in a
 * row, the daemon runs one minor collection (a few ms): the young generation shrinks at once,
 * compiled code is untouched, and V8's own reducer still does the rest later. (A low-memory
 * notification released more, but it drops compiled code too, and the next burst started cold.)
 */
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

/** The old generation may grow to this much more than was live after the last full collection. */
const OLD_GENERATION_GROWTH_PERCENT = 100;
/** V8's default young-generation growth factor, restored once the daemon is ready. */
const V8_SEMI_SPACE_GROWTH_FACTOR = 2;
/** How often the event loop is checked for idleness, and how many idle checks make a quiet spell. */
const IDLE_CHECK_MS = 5000;
const QUIET_CHECKS = 2;
/** The busy share of a check's interval under which the loop counts as idle. */
const IDLE_UTILISATION = 0.02;

let loading = false;

/** Called before the daemon's modules load. */
export function applyStartupHeapPolicy(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  loading = true;
}

/** Called once the daemon is ready; nothing to do when start-up did not apply the policy. */
export function heapPolicyReady(checkMs = IDLE_CHECK_MS): void {
  if (!loading) return;
  v8.setFlagsFromString(`--semi-space-growth-factor=${V8_SEMI_SPACE_GROWTH_FACTOR}`);
  loading = false;
  collectWhenQuiet(checkMs);
}

type GcFunction = (options: { type: 'minor' | 'major' }) => void;

/** One minor collection at the start of each quiet spell of the event loop (unreferenced timer). */
function collectWhenQuiet(checkMs: number): void {
  // V8 installs `gc` in contexts made after the flag is set; the collection is the isolate's
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as GcFunction;
  let last = performance.eventLoopUtilization();
  let quiet = 0;
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    quiet = performance.eventLoopUtilization(now, last).utilization < IDLE_UTILISATION ? quiet + 1 : 0;
    last = now;
    if (quiet === QUIET_CHECKS) gc({ type: 'minor' });
  }, checkMs).unref();
}
