/**
 * The daemon's idle trim (idle-trim.ts): the decision, check by check, over scripted probes; and
 * the real thing in a fresh Node, where a heap a burst grew must shrink once the loop goes quiet,
 * while a control process that only waits keeps it.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IdleTrim, type IdleTrimPolicy } from '../../src/daemon/lifecycle/idle-trim.js';

const MIB = 1024 * 1024;
const POLICY: IdleTrimPolicy = { quietChecks: 2, idleUtilisation: 0.02, minExcessBytes: 16 * MIB };

/** Probes read from scripted values; `trim` brings the heap down to `trimmedTo`. */
function scripted(start: number) {
  const state = { heap: start, busy: 0.5, trimmedTo: start, trims: 0 };
  const probes = {
    utilisation: () => state.busy,
    heapBytes: () => state.heap,
    trim: async () => {
      state.trims++;
      state.heap = state.trimmedTo;
    },
  };
  return { state, probes };
}

describe('idle trim decision', () => {
  it('trims once the loop has been quiet for two checks and the heap stands 16 MiB above its settled size', async () => {
    const { state, probes } = scripted(20 * MIB);
    const onTrim: [number, number][] = [];
    const t = new IdleTrim(probes, { ...POLICY, onTrim: (b, a) => onTrim.push([b, a]) });
    state.heap = 70 * MIB; // a burst grew it
    await t.check(); // busy
    await t.check();
    expect(state.trims).toBe(0);
    state.busy = 0.001;
    state.trimmedTo = 22 * MIB;
    await t.check(); // first quiet check
    expect(state.trims).toBe(0);
    await t.check(); // second: trim
    expect(state.trims).toBe(1);
    expect(onTrim).toEqual([[70 * MIB, 22 * MIB]]);
    // once per burst: the heap is now at its settled size
    for (let i = 0; i < 5; i++) await t.check();
    expect(state.trims).toBe(1);
  });

  it('never trims while the loop is busy, nor a heap that grew less than the threshold', async () => {
    const { state, probes } = scripted(20 * MIB);
    const t = new IdleTrim(probes, POLICY);
    state.heap = 90 * MIB;
    state.busy = 0.03; // just over 2 %
    for (let i = 0; i < 6; i++) await t.check();
    expect(state.trims).toBe(0);
    state.busy = 0;
    state.heap = 35 * MIB; // 15 MiB above
    for (let i = 0; i < 6; i++) await t.check();
    expect(state.trims).toBe(0);
  });

  it('a busy check in between starts the quiet count again', async () => {
    const { state, probes } = scripted(20 * MIB);
    const t = new IdleTrim(probes, POLICY);
    state.heap = 60 * MIB;
    state.busy = 0;
    await t.check();
    state.busy = 0.4;
    await t.check();
    state.busy = 0;
    await t.check();
    expect(state.trims).toBe(0);
    await t.check();
    expect(state.trims).toBe(1);
  });

  it('takes a heap V8 shrank by itself as the new settled size', async () => {
    const { state, probes } = scripted(40 * MIB);
    const t = new IdleTrim(probes, POLICY);
    state.busy = 0;
    state.heap = 18 * MIB; // V8's reducer ran
    await t.check();
    state.heap = 40 * MIB; // 22 MiB above the new settled size
    await t.check();
    expect(state.trims).toBe(1);
  });

  it('starts no second trim while one is running', async () => {
    let release: () => void = () => undefined;
    let trims = 0;
    const t = new IdleTrim(
      {
        utilisation: () => 0,
        heapBytes: () => (trims > 0 ? 20 * MIB : 80 * MIB),
        trim: () => {
          trims++;
          return new Promise<void>((r) => (release = r));
        },
      },
      { ...POLICY, quietChecks: 1 },
    );
    // the constructor settled at 80 MiB: let it see a smaller heap first
    (t as unknown as { settled: number }).settled = 20 * MIB;
    const first = t.check();
    await t.check();
    await t.check();
    expect(trims).toBe(1);
    release();
    await first;
    expect(t.trims).toBe(1);
  });
});

describe('idle trim in a fresh Node', () => {
  const MODULE = JSON.stringify(
    path.join(
      path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'),
      'dist/daemon/lifecycle/idle-trim.js',
    ),
  );
  /** A burst that leaves the committed heap far above what is live, then `idleMs` of quiet. */
  const run = (trim: boolean): { before: number; after: number; trims: number } => {
    const script = `import v8 from 'node:v8';
import { startIdleTrim } from ${MODULE};
const committed = () => v8.getHeapStatistics().total_heap_size;
const idle = ${trim} ? startIdleTrim({ checkMs: 200, quietChecks: 2 }) : undefined;
let keep = [];
for (let r = 0; r < 40; r++) {
  const batch = [];
  for (let i = 0; i < 20000; i++) batch.push({ i, s: 'request state ' + i + r });
  keep.push(batch);
  if (keep.length > 8) keep.shift();
}
keep = [];
const before = committed();
await new Promise((r) => setTimeout(r, 1500));
console.log(JSON.stringify({ before, after: committed(), trims: idle ? idle.trim.trims : 0 }));
idle?.stop();`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    return JSON.parse(out) as { before: number; after: number; trims: number };
  };

  it('gives the grown heap back within a few quiet checks; an untrimmed control keeps it', () => {
    const control = run(false);
    const trimmed = run(true);
    expect(control.before).toBeGreaterThan(40 * MIB);
    expect(control.after).toBeGreaterThan(control.before * 0.8);
    expect(trimmed.trims).toBe(1);
    expect(trimmed.after).toBeLessThan(trimmed.before * 0.5);
  }, 20_000);
});
