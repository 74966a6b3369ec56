// Scenario C: open loop at fixed rates (60 ms upstream), wrk2-style pacing from open-loop.mjs:
// success % of the requests scheduled and p99 counted from each request's due time.
import { openLoop } from '../lib/clients.mjs';
import { measure, settle } from './common.mjs';

export async function scenarioC(ctx) {
  const { t, plan } = ctx;
  const targets = ctx.targetsFor('C');
  const rates = {};
  for (const rate of plan.C.rates) {
    rates[rate] = {};
    for (const target of targets) {
      const opts = { rate, seconds: plan.C.seconds, connections: 1024, name: `C-${target}-${rate}` };
      rates[rate][target] = await measure(ctx, opts.name, () =>
        openLoop(ctx.dir, t.endpoint(target, 'd60'), opts),
      );
      await settle(t, 30_000);
    }
    ctx.log(
      `C ${rate} rps: success % ${targets.map((x) => `${x} ${rates[rate][x].success_pct.toFixed(2)}`).join(', ')}`,
    );
  }
  return { rates };
}
