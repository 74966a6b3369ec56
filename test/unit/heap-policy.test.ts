/**
 * `bc daemon`'s heap policy (heap-policy.ts) works through V8 flags read at run time, which this
 * proves on the Node in use, each in a fresh process beside a control without the policy:
 * - while loading, the young generation stays at 2 MiB, and grows again once the daemon is ready;
 * - the old generation's headroom between full collections is capped: V8's own trace of the
 *   limits it sets (`--trace-gc-verbose`) shows the factor at 2 with the policy, 4 without.
 *   (What the cap saves in RSS depends on collection timing, and is measured by the benchmark.)
 * - once the event loop goes quiet, the policy forces one minor collection, which gives back the
 *   young generation a burst left committed; the quiet control forces none.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MIB = 1024 * 1024;
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODULE = JSON.stringify(path.join(REPO_ROOT, 'dist/daemon/lifecycle/heap-policy.js'));

/** Runs `body` as an ES module in a fresh Node (with the policy module and v8 imported); its JSON. */
function inFreshNode(body: string): Record<string, number> {
  return JSON.parse(runFresh(body)) as Record<string, number>;
}

/** Runs `body` as an ES module in a fresh Node with extra Node flags; its stdout. */
function runFresh(body: string, nodeFlags: string[] = []): string {
  const script = `import v8 from 'node:v8';
import { applyStartupHeapPolicy, heapPolicyReady } from ${MODULE};
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
${body}`;
  return execFileSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
}

/** Objects that live a while, so collections see survivors (what makes V8 grow its spaces). */
const CHURN = `function churn(rounds) {
  let peak = 0;
  const ring = [];
  for (let r = 0; r < rounds; r++) {
    ring.push({ r, t: 'x' + r });
    if (ring.length > 200000) ring.splice(0, 100000);
    if (r % 50000 === 0) peak = Math.max(peak, v8.getHeapStatistics().total_heap_size);
  }
  return peak;
}
/** A live set the old generation's limit is computed from. */
function liveSet() {
  const live = [];
  for (let i = 0; i < 400000; i++) live.push({ i, s: 'abcdefgh' + i });
  return live;
}`;

describe('daemon heap policy', () => {
  it('keeps the young generation at 2 MiB while loading, and lets it grow once ready', () => {
    const r = inFreshNode(`${CHURN}
const initial = newSpace();
applyStartupHeapPolicy();
churn(1e6);
const loading = newSpace();
heapPolicyReady();
churn(1e6);
console.log(JSON.stringify({ initial, loading, ready: newSpace() }));`);
    // V8 starts at 1 MiB and takes one step to its initial semi-space size; unheld, this workload
    // takes it to the 32 MiB maximum, as the ready phase shows
    expect(r.initial).toBeLessThanOrEqual(2 * MIB);
    expect(r.loading).toBeLessThanOrEqual(2 * MIB);
    expect(r.ready).toBeGreaterThanOrEqual(16 * MIB);
  });

  it('caps the old generation at twice what was live: the limits V8 sets, beside the control', () => {
    /** The growth factor of every old-generation limit V8 set while a workload promoted garbage. */
    const factors = (policy: boolean): number[] => {
      const out = runFresh(
        `${CHURN}
${policy ? 'applyStartupHeapPolicy(); heapPolicyReady();' : ''}
const live = liveSet();
churn(2e6);
console.log('live', live.length);`,
        ['--trace-gc-verbose'],
      );
      // e.g. "[HeapController] Limit: old size: 54565 KB, new limit: 234370 KB (4.0)"
      return [...out.matchAll(/\[HeapController\] Limit: .*\(([\d.]+)\)$/gm)].map((m) => Number(m[1]));
    };
    const control = factors(false);
    const capped = factors(true);
    // V8's first limit, before it has measured its collector, takes the largest factor: 4
    expect(control.length).toBeGreaterThan(0);
    expect(Math.max(...control)).toBeGreaterThan(2);
    expect(capped.length).toBeGreaterThan(0);
    expect(Math.max(...capped)).toBeLessThanOrEqual(2);
  });

  it('gives back the young generation a burst left committed once the loop goes quiet', () => {
    const run = (nudge: boolean) =>
      inFreshNode(`${CHURN}
import { PerformanceObserver, performance, constants } from 'node:perf_hooks';
let quietAt = Infinity;
let forcedMinor = 0;
let forcedAny = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.startTime < quietAt || !(e.detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED)) continue;
    forcedAny++;
    if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) forcedMinor++;
  }
}).observe({ entryTypes: ['gc'] });
applyStartupHeapPolicy();
heapPolicyReady(${nudge ? 1000 : 1e9}); // the quiet checks every second, or never
churn(2e6);
const busy = v8.getHeapStatistics().total_heap_size;
quietAt = performance.now();
// wait (up to 12 s on a busy machine) for the forced collection and the heap to fall; the control waits 3 s
const heap = () => v8.getHeapStatistics().total_heap_size;
const end = Date.now() + ${nudge ? 12000 : 3000};
while (Date.now() < end && !(${nudge} && forcedMinor > 0 && heap() < busy - 8 * 2 ** 20))
  await new Promise((r) => setTimeout(r, 100));
await new Promise((r) => setTimeout(r, 50)); // the observer's last entries
console.log(JSON.stringify({ busy, idle: heap(), forcedMinor, forcedAny }));`);
    const control = run(false);
    const nudged = run(true);
    // measured: nudged 48-59 MiB busy, 38-43 idle 2-3 s after the burst (two quiet one-second
    // checks; the daemon's are 5 s, but a loaded machine rarely leaves two 100 ms checks under
    // 2 % busy), after one forced minor collection. The control's idle size is not compared: V8 itself often finishes a full
    // collection begun during the burst right after it (a quiet control fell to 38-40 MiB in 3 of
    // 11 runs and stayed at 54-63 in the others), so only the collection the policy forces is
    // attributed to it, and the control forces none.
    expect(nudged.idle!).toBeLessThan(nudged.busy! - 8 * MIB);
    expect(nudged.forcedMinor).toBeGreaterThanOrEqual(1);
    expect(control.forcedAny).toBe(0);
  });
});
