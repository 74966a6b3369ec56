// Scenario F: an OpenAI client to an Anthropic-type channel (conversion both ways). Like A, in
// interleaved rounds at c=1 and 0 ms: direct to the simulator's Messages endpoint, the gateway
// and the peer converting, and, in the same rounds, direct and gateway passthrough (OpenAI to
// OpenAI) so the conversion's added p50 is compared with passthrough's within one run. Then the
// streaming levels of D through the conversion.
import { wrk } from '../lib/wrk.mjs';
import { measure, rotate, warm } from './common.mjs';
import { streamLevels } from './d.mjs';
import { summarise } from './a.mjs';

const LEGS = [
  ['direct', 'd0'],
  ['gateway', 'd0'],
  ['direct', 'anth'],
  ['gateway', 'anth'],
  ['peer', 'anth'],
];
const name = ([target, kind]) => (kind === 'anth' ? `${target}_conv` : `${target}_pass`);

export async function scenarioF(ctx) {
  const { t, plan } = ctx;
  await warm(ctx, 'anth', ['gateway', 'peer']);
  const rounds = [];
  for (let r = 0; r < plan.F.rounds; r++) {
    const round = {};
    for (const leg of rotate(LEGS, r)) {
      const label = `F-${name(leg)}`;
      const opts = { connections: 1, seconds: plan.F.seconds };
      round[name(leg)] = await measure(ctx, label, () =>
        wrk(ctx.dir, label, t.endpoint(leg[0], leg[1]), opts),
      );
    }
    ctx.log(
      `F round ${r + 1}/${plan.F.rounds}: p50 µs ${Object.entries(round)
        .map(([k, v]) => `${k} ${v.p50_us}`)
        .join(', ')}`,
    );
    rounds.push(round);
  }
  const conv = summarise(rounds, ['direct_conv', 'gateway_conv', 'peer_conv'], 'direct_conv');
  const pass = summarise(rounds, ['direct_pass', 'gateway_pass'], 'direct_pass');
  if (plan.F.levels.length === 0) return { rounds, summary: { ...conv, ...pass } };
  const stream = await streamLevels(
    ctx,
    ['direct', 'gateway', 'peer'],
    'anth',
    plan.F.levels,
    plan.F.streamSeconds,
    'F-stream',
  );
  return { rounds, summary: { ...conv, ...pass }, stream };
}
