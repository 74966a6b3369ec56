// `npm run bench [-- --quick] [-- --only A,B] [-- --keep]`: starts the topology of BENCH.md
// (simulators, floor, gateway, peer; pinned), checks every endpoint answers correctly, runs the
// scenarios (H, the cluster, starts its own gateways, PostgreSQL and Redis; not in --quick
// unless named with --only), prints one side-by-side table and the issue's targets (PASS/MISS),
// and writes the raw results to bench/results/<timestamp>.json and bench/results/latest.json.
// Whatever happens (failure, Ctrl-C), every process it started is stopped before it exits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { installCleanup, keepDir, pinSelf, rssMiB, runSync, stopAll, tempDir } from './lib/procs.mjs';
import { KINDS, LOAD_CORE, ROOT, TARGETS, checkEndpoints, startTopology } from './lib/topology.mjs';
import { ensureWrk } from './lib/wrk.mjs';
import { table, targetLines, targets } from './lib/report.mjs';
import { settle } from './scenarios/common.mjs';
import { scenarioA } from './scenarios/a.mjs';
import { scenarioB } from './scenarios/b.mjs';
import { scenarioC } from './scenarios/c.mjs';
import { scenarioD } from './scenarios/d.mjs';
import { scenarioE } from './scenarios/e.mjs';
import { scenarioF } from './scenarios/f.mjs';
import { scenarioG } from './scenarios/g.mjs';
import { hTable, scenarioH } from './scenarios/h.mjs';

const PLANS = {
  full: {
    warmupS: 3,
    A: { rounds: 7, seconds: 3 },
    B: { cs: [1, 16, 64, 256], seconds: 5, rounds: 7, roundSeconds: 3 },
    C: { rates: [500, 1000, 2000], seconds: 30 },
    D: { levels: [1, 16, 64, 128, 256, 512], seconds: 6 },
    E: { soakS: 600, soakRate: 500, idleS: 60, streamsS: 6, streamsOn: ['gateway', 'floor', 'peer'] },
    F: { rounds: 7, seconds: 3, levels: [1, 64, 512], streamSeconds: 6 },
    G: { n: 10 },
    H: { rounds: 5, seconds: 3, idleS: 3, targets: ['sqlite', 'workers2', 'workers2s', 'pg2', 'pg1'] },
    peerIn: ['A', 'B', 'C', 'D', 'F'],
  },
  quick: {
    warmupS: 1,
    A: { rounds: 3, seconds: 1 },
    B: { cs: [64], seconds: 1, rounds: 3, roundSeconds: 1 },
    C: { rates: [2000], seconds: 3 },
    D: { levels: [64, 128, 512], seconds: 1 },
    E: { soakS: 15, soakRate: 500, idleS: 5, streamsS: 1, streamsOn: ['gateway', 'floor'] },
    F: { rounds: 1, seconds: 1, levels: [], streamSeconds: 0 },
    G: { n: 10 },
    // not in a plain --quick run (it does not fit the budget): `--quick --only H`
    H: { rounds: 2, seconds: 1, idleS: 2, targets: ['sqlite', 'workers2', 'pg2', 'pg1'] },
    peerIn: ['A', 'F'],
  },
};
const SCENARIOS = {
  A: scenarioA,
  B: scenarioB,
  C: scenarioC,
  D: scenarioD,
  F: scenarioF,
  G: scenarioG,
  E: scenarioE,
  H: scenarioH,
};

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const mode = opts.quick ? 'quick' : 'full';
const plan = PLANS[mode];
const only = opts.only
  ? opts.only.toUpperCase().split(',')
  : Object.keys(SCENARIOS).filter((id) => !(mode === 'quick' && id === 'H'));
const t0 = Date.now();
const log = (m) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}\n`);

function machine() {
  const cpus = os.cpus();
  const git = runSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).stdout.trim();
  const dirty =
    runSync('git', ['status', '--porcelain', '--untracked-files=no', 'src'], { cwd: ROOT }).stdout.trim() !==
    '';
  const peer = JSON.parse(
    fs.readFileSync(path.join(ROOT, 'node_modules/@portkey-ai/gateway/package.json'), 'utf8'),
  ).version;
  return {
    cpu: cpus[0]?.model,
    cores: cpus.length,
    mem_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    node: process.version,
    wrk: runSync('wrk', ['--version']).stdout.split('\n')[0].trim(),
    peer: `@portkey-ai/gateway ${peer}`,
    git_commit: git,
    src_dirty: dirty,
  };
}

function save(results, stamp, final) {
  const dir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(results, null, 1)}\n`;
  fs.writeFileSync(path.join(dir, `${stamp}.json`), text);
  if (final) fs.writeFileSync(path.join(dir, 'latest.json'), text);
}

async function main() {
  installCleanup();
  if (os.cpus().length < 2)
    throw new Error('the benchmark pins the server and the load to two different cores: it needs 2 cores');
  if (runSync('taskset', ['-V']).status !== 0)
    throw new Error('taskset (util-linux) is needed to pin processes to cores');
  pinSelf(LOAD_CORE);
  ensureWrk(log);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const results = {
    mode,
    started_at: new Date().toISOString(),
    machine: machine(),
    plan,
    loadavg_start: os.loadavg(),
    complete: false,
    incidents: [],
    scenarios: {},
  };
  const workDir = tempDir(path.join(os.tmpdir(), 'bc-bench-work-'));
  let t;
  try {
    log(`${mode} run; logs in ${workDir}`);
    t = await startTopology({ workDir, log });
    await settle(t);
    await delay(2000);
    results.idle_rss_mib = Object.fromEntries(
      ['floor', 'gateway', 'peer'].map((x) => [x, rssMiB(t.procs[x].pid)]),
    );
    log(
      `idle RSS MiB: ${Object.entries(results.idle_rss_mib)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')}`,
    );
    const problems = await checkEndpoints(t, Object.keys(KINDS));
    if (problems.length > 0)
      throw new Error(`some endpoints do not answer correctly:\n  ${problems.join('\n  ')}`);
    const ctx = {
      t,
      dir: workDir,
      plan,
      log,
      idleRss: results.idle_rss_mib,
      incidents: results.incidents,
      targetsFor: (id) => (plan.peerIn.includes(id) ? TARGETS : TARGETS.filter((x) => x !== 'peer')),
    };
    for (const [id, fn] of Object.entries(SCENARIOS)) {
      if (!only.includes(id)) continue;
      log(`scenario ${id}`);
      results.scenarios[id] = await fn(ctx);
      save(results, stamp, false);
    }
    results.complete = true;
  } finally {
    await stopAll();
    // logs stay for a failed run (or --keep); the daemon's home only with --keep
    if (opts.keep || !results.complete) keepDir(workDir);
    if (opts.keep && t?.home) keepDir(t.home);
  }
  results.loadavg_end = os.loadavg();
  results.duration_s = (Date.now() - t0) / 1000;
  results.simulator_bound = results.scenarios.B ? results.scenarios.B.simulator_bound : null;
  results.targets = targets(results);
  save(results, stamp, true);
  print(results, stamp);
}

function print(results, stamp) {
  const out = [];
  out.push(
    '',
    `BurnCloud benchmark, ${mode} mode, ${results.started_at}, ${results.duration_s.toFixed(0)} s; ${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.node}`,
  );
  out.push(
    `load average at start ${results.loadavg_start.map((x) => x.toFixed(2)).join(' ')}, at end ${results.loadavg_end.map((x) => x.toFixed(2)).join(' ')}`,
  );
  const B = results.scenarios.B;
  if (results.simulator_bound === true) {
    out.push(
      `SIMULATOR-BOUND: direct reached ${Math.round(B.capacity_c64_0ms.direct.rps)} RPS, not twice the gateway's ${Math.round(B.capacity_c64_0ms.gateway.rps)} (c=64, 0 ms): the gateway figures are capped by the load side, not its own.`,
    );
  } else if (results.simulator_bound === null) out.push('simulator-bound check not run (needs scenario B)');
  for (const i of results.incidents) {
    out.push(
      `INCIDENT: ${i.dead.map((d) => d.name).join(', ')} exited ${i.when} (not stopped by the benchmark); restarted and measured again`,
    );
  }
  out.push('', table(results), '', 'Targets (issues 6 and 15):', targetLines(results.targets), '');
  if (results.scenarios.H) out.push('Scenario H, cluster (issue 17):', hTable(results.scenarios.H), '');
  out.push(`raw results: bench/results/${stamp}.json and bench/results/latest.json`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch(async (e) => {
  process.stderr.write(`bench failed: ${e.stack ?? e}\n`);
  await stopAll();
  process.exitCode = 1;
});
