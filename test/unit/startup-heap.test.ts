/**
 * `bc daemon` holds V8's young generation at its initial size while the daemon loads, then lets it
 * grow again (startup-heap.ts). The flag it sets is read by V8 at run time, which this proves on the
 * Node in use: in a fresh process, a workload that grows the young generation leaves it at its
 * initial size while held, and grows it once released.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MIB = 1024 * 1024;
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const script = `
import v8 from 'node:v8';
import { holdYoungGeneration, releaseYoungGeneration } from ${JSON.stringify(
  path.join(REPO_ROOT, 'dist/daemon/lifecycle/startup-heap.js'),
)};
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
// objects that live a while, so scavenges see survivors (what makes V8 grow the young generation)
function churn() {
  const keep = [];
  for (let i = 0; i < 2e6; i++) {
    keep.push({ i, s: 'x' + i });
    if (keep.length > 50000) keep.splice(0, 25000);
  }
}
const initial = newSpace();
holdYoungGeneration();
churn();
const held = newSpace();
releaseYoungGeneration();
churn();
console.log(JSON.stringify({ initial, held, released: newSpace() }));
`;

describe('startup heap', () => {
  it('keeps the young generation at 2 MiB while held, and lets it grow once released', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const { initial, held, released } = JSON.parse(out) as Record<string, number>;
    // V8 starts at 1 MiB and takes one step to its initial semi-space size; unheld, this workload
    // takes it to the 32 MiB maximum, as the released phase shows
    expect(initial).toBeLessThanOrEqual(2 * MIB);
    expect(held).toBeLessThanOrEqual(2 * MIB);
    expect(released).toBeGreaterThanOrEqual(16 * MIB);
  });
});
