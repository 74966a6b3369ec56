#!/usr/bin/env node
/**
 * Reads StrykerJS JSON reports (mutation-testing-report-schema) and prints the mutation score per
 * file and over all files, the way Stryker counts it: killed + timeout over killed + timeout +
 * survived + no coverage (compile and runtime errors and ignored mutants do not count). With
 * `--merge out.json a.json b.json ...` it first writes one report holding every file of the
 * inputs, a later input's entry for a file replacing an earlier one's: a file re-run on its own
 * after new tests (STRYKER_MUTATE + STRYKER_LABEL) updates the area's report without a full run.
 * `--survivors` lists each surviving or uncovered mutant as file:line mutator -> replacement.
 */
import fs from 'node:fs';

const args = process.argv.slice(2);
const survivors = args.includes('--survivors');
const rest = args.filter((a) => a !== '--survivors');
let inputs = rest;
let out;
if (rest[0] === '--merge') {
  out = rest[1];
  inputs = rest.slice(2);
}
if (inputs.length === 0) {
  console.error('usage: mutation-report.mjs [--survivors] [--merge out.json] report.json...');
  process.exit(2);
}

const reports = inputs.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const merged = { ...reports[0], files: {} };
for (const r of reports) Object.assign(merged.files, r.files);
merged.files = Object.fromEntries(Object.entries(merged.files).sort(([a], [b]) => a.localeCompare(b)));
if (out) fs.writeFileSync(out, JSON.stringify(merged));

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const total = { detected: 0, undetected: 0, mutants: 0 };
const rows = [];
for (const [file, { mutants }] of Object.entries(merged.files)) {
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
  const undetected = mutants.filter((m) => UNDETECTED.has(m.status)).length;
  total.detected += detected;
  total.undetected += undetected;
  total.mutants += mutants.length;
  rows.push([file, detected, undetected, mutants.length]);
}
const pct = (d, u) => (d + u === 0 ? 'n/a' : `${((100 * d) / (d + u)).toFixed(1)} %`);
for (const [file, d, u, n] of rows) {
  console.log(
    `${pct(d, u).padStart(8)}  ${String(d).padStart(4)} killed  ${String(u).padStart(4)} survived  (${n})  ${file}`,
  );
}
console.log(
  `${pct(total.detected, total.undetected).padStart(8)}  ${total.detected} killed  ${total.undetected} survived  (${total.mutants})  all`,
);
if (survivors) {
  for (const [file, { mutants, source }] of Object.entries(merged.files)) {
    const lines = source.split('\n');
    for (const m of mutants.filter((x) => UNDETECTED.has(x.status))) {
      const line = m.location.start.line;
      const code = lines[line - 1]?.trim().slice(0, 100);
      console.log(
        `${file}:${line} ${m.status} ${m.mutatorName} -> ${JSON.stringify(m.replacement)}  | ${code}`,
      );
    }
  }
}
