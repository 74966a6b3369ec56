// Scenario G: the CLI against the running daemon. Wall time of `bc channel list --json` and
// `bc status`, median of 10 each, beside `node -e 0` (Node's own start-up), interleaved and
// pinned to the load core.
import path from 'node:path';
import { runSync } from '../lib/procs.mjs';
import { HALF_BUILT, LOAD_CORE, ROOT, sleepSync } from '../lib/topology.mjs';
import { median } from '../lib/stats.mjs';
import { measure } from './common.mjs';

export async function scenarioG(ctx) {
  const { t, plan } = ctx;
  const env = { ...process.env, ...t.gatewayEnv };
  const bc = path.join(ROOT, 'bin/bc.js');
  const cmds = {
    node_e0: [process.execPath, '-e', '0'],
    channel_list: [process.execPath, bc, 'channel', 'list', '--json'],
    status: [process.execPath, bc, 'status'],
  };
  const ms = await measure(ctx, 'G', async () => timeAll(cmds, env, plan.G.n));
  const out = Object.fromEntries(
    Object.entries(ms).map(([k, v]) => [k, { median_ms: median(v), runs_ms: v }]),
  );
  ctx.log(
    `G medians ms: ${Object.entries(out)
      .map(([k, v]) => `${k} ${v.median_ms.toFixed(1)}`)
      .join(', ')}`,
  );
  return out;
}

/** Runs every command n times, interleaved, pinned to the load core; wall ms of each run. */
function timeAll(cmds, env, n) {
  const ms = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < n; i++) {
    for (const [k, argv] of Object.entries(cmds)) {
      let r = runSync('taskset', ['-c', String(LOAD_CORE), ...argv], { env });
      // another build rewriting dist/ in a shared checkout is not the CLI's cost: wait, measure again
      for (let n = 0; r.status !== 0 && n < 3 && HALF_BUILT.test(r.stderr); n++) {
        sleepSync(2000);
        r = runSync('taskset', ['-c', String(LOAD_CORE), ...argv], { env });
      }
      if (r.status !== 0) throw new Error(`${argv.slice(1).join(' ')} failed: ${r.stderr}`);
      ms[k].push(r.ms);
    }
  }
  return ms;
}
