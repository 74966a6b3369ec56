// Scenario E: memory of the daemon (VmRSS from /proc). Idle RSS comes from run.mjs (right after
// start and configuration, before any load). Here, on a restarted daemon after a short warm-up:
// the pre-load level, a soak at a fixed
// open-loop rate (10 % of requests streaming) sampled every second with its growth in MiB/min
// (least squares after the first fifth, the warm-up), the RSS after an idle period, and the peak RSS while
// 1,000 streams are open, for the floor too (issue 15's E5 is the gateway's peak over the floor's;
// the peer as well in full mode).
import { setTimeout as delay } from 'node:timers/promises';
import { openLoop, streams } from '../lib/clients.mjs';
import { rssMiB, sampleRss } from '../lib/procs.mjs';
import { slope } from '../lib/stats.mjs';
import { restartGateway } from '../lib/topology.mjs';
import { measure, settle, warm } from './common.mjs';

export async function scenarioE(ctx) {
  const { t, plan } = ctx;
  // A fresh daemon (same home, so same configuration): earlier scenarios' peaks must not pass
  // for the pre-load level, nor their release for negative growth.
  await restartGateway(t);
  await warm(ctx, 'd0', ['gateway']);
  await delay(2000);
  let pre;
  let samples;
  const soak = await measure(ctx, 'E-soak', async () => {
    pre = rssMiB(t.procs.gateway.pid);
    ctx.log(`E soak: ${plan.E.soakRate} req/s for ${plan.E.soakS} s, RSS before ${pre.toFixed(1)} MiB`);
    const sampler = sampleRss(t.procs.gateway.pid, 1000);
    const opts = {
      rate: plan.E.soakRate,
      seconds: plan.E.soakS,
      connections: 512,
      streamShare: 0.1,
      name: 'E-soak',
    };
    const r = await openLoop(ctx.dir, t.endpoint('gateway', 'd0'), opts);
    samples = sampler.stop();
    return r;
  });
  const steady = samples.filter((s) => s.t_s >= plan.E.soakS * 0.2 && s.t_s <= plan.E.soakS);
  const growth = slope(
    steady.map((s) => s.t_s / 60),
    steady.map((s) => s.mib),
  );
  const peakSoak = Math.max(...samples.map((s) => s.mib));
  ctx.log(
    `E soak done: success ${soak.success_pct.toFixed(2)} %, growth ${growth?.toFixed(3)} MiB/min; idle ${plan.E.idleS} s`,
  );
  await delay(plan.E.idleS * 1000);
  const afterIdle = rssMiB(t.procs.gateway.pid);
  const streamsPeak = {};
  for (const target of plan.E.streamsOn) {
    streamsPeak[target] = await measure(ctx, `E-${target}-1000`, () => peakAtStreams(ctx, target, 1000));
    ctx.log(`E ${target}: peak RSS at 1000 streams ${streamsPeak[target].peak_mib.toFixed(1)} MiB`);
    await settle(t, 30_000);
  }
  return {
    idle_start_mib: ctx.idleRss,
    pre_load_mib: pre,
    soak: {
      ...soak,
      rate: plan.E.soakRate,
      seconds: plan.E.soakS,
      growth_mib_per_min: growth,
      peak_mib: peakSoak,
      samples,
    },
    idle_s: plan.E.idleS,
    after_idle_mib: afterIdle,
    after_idle_vs_pre_pct: ((afterIdle - pre) / pre) * 100,
    streams_1000: streamsPeak,
  };
}

async function peakAtStreams(ctx, target, n) {
  const pid = ctx.t.procs[target].pid;
  const before = rssMiB(pid);
  const sampler = sampleRss(pid, 200);
  const client = await streams(ctx.dir, ctx.t.endpoint(target, 'd0'), {
    streams: n,
    seconds: ctx.plan.E.streamsS,
    name: `E-${target}-${n}`,
  });
  const samples = sampler.stop();
  return { before_mib: before, peak_mib: Math.max(...samples.map((s) => s.mib)), client };
}
