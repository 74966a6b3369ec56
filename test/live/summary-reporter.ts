/**
 * The live suite's last line: which providers ran (with how many of their cases passed, failed
 * or never ran) and which were skipped for want of a key, with the variables to set, e.g.
 * `live: ran openai (7 passed), anthropic (5 passed, 1 failed); skipped gemini (set BC_LIVE_GEMINI_KEY)`.
 * A case belongs to the provider its top-level describe is named after (live.test.ts). Runs beside
 * vitest's own reporter, which shows each case and its error. A run in which no provider ran
 * proves nothing, so it fails here unless BC_LIVE_ALLOW_NONE=1 accepts one (a machine that runs
 * the suite whether or not it has keys).
 */
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { ALLOW_NONE, allowNone, selectProviders, type Selection } from './providers.js';

interface Tally {
  passed: number;
  failed: number;
  notRun: number;
}

/** The name of the top-level describe a case sits in, or undefined for one outside any. */
function providerOf(test: TestCase): string | undefined {
  let node: TestCase['parent'] = test.parent;
  let top: string | undefined;
  while (node.type === 'suite') {
    top = node.name;
    node = node.parent;
  }
  return top;
}

export function summaryLine(sel: Selection, tallies: ReadonlyMap<string, Tally>): string {
  const ran = sel.ran.map((p) => {
    const t = tallies.get(p.spec.name) ?? { passed: 0, failed: 0, notRun: 0 };
    const parts = [`${t.passed} passed`];
    if (t.failed > 0) parts.push(`${t.failed} failed`);
    if (t.notRun > 0) parts.push(`${t.notRun} not run`);
    return `${p.spec.name} (${parts.join(', ')})`;
  });
  const skipped = sel.skipped.map((s) => `${s.name} (${s.hint})`);
  return `live: ran ${ran.join(', ') || 'none'}; skipped ${skipped.join(', ') || 'none'}`;
}

export function tally(modules: ReadonlyArray<TestModule>, sel: Selection): Map<string, Tally> {
  const out = new Map<string, Tally>(sel.ran.map((p) => [p.spec.name, { passed: 0, failed: 0, notRun: 0 }]));
  for (const mod of modules) {
    for (const test of mod.children.allTests()) {
      const t = out.get(providerOf(test) ?? '');
      if (!t) continue;
      const state = test.result().state;
      if (state === 'passed') t.passed += 1;
      else if (state === 'failed') t.failed += 1;
      else t.notRun += 1;
    }
  }
  return out;
}

export default class LiveSummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const sel = selectProviders(process.env);
    process.stdout.write(`\n${summaryLine(sel, tally(modules, sel))}\n`);
    if (sel.ran.length > 0 || allowNone(process.env)) return;
    process.stdout.write(
      `live: no provider ran: set at least one provider's variables named above, ` +
        `or ${ALLOW_NONE}=1 to accept a run with none.\n`,
    );
    process.exitCode = 1;
  }
}
