// Scenario D: streaming. 64 deltas at a 20 ms pace, N concurrent streams kept open for a few
// seconds at each level: TTFT p50 and p99 (and both added over direct), inter-chunk gap p99,
// frames lost and stalls (a gap over twice the pace). A level is sustained when every stream was
// complete and none stalled; the figure is the highest level sustained with all lower levels
// sustained too. Issue 15 judges 128, 256 and 512 streams on the absolute TTFTs, gap p99 and
// completed streams against the floor's at the same level (bench/lib/targets-issue15.mjs).
import { streams } from '../lib/clients.mjs';
import { measure, rotate, settle } from './common.mjs';

export async function streamLevels(ctx, targets, kind, levels, seconds, label) {
  const out = {};
  for (const [i, n] of levels.entries()) {
    out[n] = {};
    for (const target of rotate(targets, i)) {
      const ep = ctx.t.endpoint(target, kind);
      const name = `${label}-${target}-${n}`;
      const r = await measure(ctx, name, () => streams(ctx.dir, ep, { streams: n, seconds, name }));
      out[n][target] = r;
      await settle(ctx.t, 30_000);
    }
    const base = out[n].direct;
    for (const target of targets) {
      const r = out[n][target];
      r.added_ttft_p50_us =
        r.ttft_p50_us === null || base.ttft_p50_us === null ? null : r.ttft_p50_us - base.ttft_p50_us;
      r.added_ttft_p99_us =
        r.ttft_p99_us === null || base.ttft_p99_us === null ? null : r.ttft_p99_us - base.ttft_p99_us;
    }
    ctx.log(
      `${label} ${n} streams: ttft p50/p99 µs ${targets.map((x) => `${x} ${out[n][x].ttft_p50_us}/${out[n][x].ttft_p99_us}${out[n][x].sustained ? '' : ' (not sustained)'}`).join(', ')}`,
    );
  }
  const maxSustained = {};
  for (const target of targets) {
    let best = 0;
    for (const n of levels) {
      if (!out[n][target].sustained) break;
      best = n;
    }
    maxSustained[target] = best;
  }
  return { levels: out, max_sustained: maxSustained };
}

export async function scenarioD(ctx) {
  return streamLevels(ctx, ctx.targetsFor('D'), 'd0', ctx.plan.D.levels, ctx.plan.D.seconds, 'D');
}
