/**
 * `bc daemon`'s heap policy (heap-policy.ts) works through V8 flags read at run time, which this
 * proves on the Node in use, each in a fresh process beside a control without the policy:
 * - while loading, the young generation stays at 2 MiB, and grows again once the daemon is ready;
 * - the old generation's headroom between full collections is capped, so a workload that
 *   promotes garbage peaks well below the control.
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
  const script = `import v8 from 'node:v8';
import { applyStartupHeapPolicy, heapPolicyReady } from ${MODULE};
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
${body}`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as Record<string, number>;
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

  it('caps the old generation headroom: a garbage-promoting workload peaks well below the control', () => {
    const run = (policy: boolean): number =>
      inFreshNode(`${CHURN}
${policy ? 'applyStartupHeapPolicy(); heapPolicyReady();' : ''}
const live = liveSet();
console.log(JSON.stringify({ peak: churn(4e6), live: live.length }));`).peak!;
    const control = run(false);
    const capped = run(true);
    expect(capped).toBeLessThan(control * 0.8);
  });
});
