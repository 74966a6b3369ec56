// Scenario A: pure overhead. c=1, 0 ms upstream, non-stream; direct, floor, gateway and peer in
// interleaved rounds (order rotated each round). Per round, each target's p50/p99 minus direct's
// in the same round is its added latency; the summary is the median over rounds. Issue 15 judges
// the gateway on the median of the per-round ratios gateway added p50 / floor added p50 (single
// rounds range widely on a shared machine, so only the ratio taken within one round is fair).
import { TARGETS } from '../lib/topology.mjs';
import { wrk } from '../lib/wrk.mjs';
import { measure, medianOf, perRoundRatios, rotate, warm } from './common.mjs';

export async function scenarioA(ctx) {
  const { t, plan } = ctx;
  await warm(ctx, 'd0', TARGETS);
  const rounds = [];
  for (let r = 0; r < plan.A.rounds; r++) {
    const round = {};
    for (const target of rotate(TARGETS, r)) {
      round[target] = await measure(ctx, `A-${target}`, () =>
        wrk(ctx.dir, `A-${target}`, t.endpoint(target, 'd0'), { connections: 1, seconds: plan.A.seconds }),
      );
    }
    const ratio = addedRatio(round);
    ctx.log(
      `A round ${r + 1}/${plan.A.rounds}: p50 µs ${TARGETS.map((x) => `${x} ${round[x].p50_us}`).join(', ')}; added p50 gateway/floor ${ratio === null ? '-' : `${ratio.toFixed(2)}x`}`,
    );
    rounds.push(round);
  }
  const ratios = perRoundRatios(rounds, addedRatio);
  ctx.log(
    `A added p50 gateway/floor per round: ${ratios.rounds.map(fmtRatio).join(', ')}; median ${fmtRatio(ratios.median)}`,
  );
  return {
    rounds,
    summary: summarise(rounds, TARGETS, 'direct'),
    added_p50_ratio: ratios,
  };
}

const fmtRatio = (x) => (x === null ? '-' : `${x.toFixed(2)}x`);

/**
 * Gateway added p50 over floor added p50 within one round (added: minus direct's p50 of that
 * round); null when the floor added nothing measurable (a ratio to zero or less means nothing).
 */
export function addedRatio(round) {
  const floor = round.floor.p50_us - round.direct.p50_us;
  const gateway = round.gateway.p50_us - round.direct.p50_us;
  return floor > 0 ? gateway / floor : null;
}

/** Per target: median p50/p99/rps and median added p50/p99 against `base` in the same round. */
export function summarise(rounds, targets, base) {
  const out = {};
  for (const target of targets) {
    out[target] = {
      p50_us: medianOf(rounds, (r) => r[target].p50_us),
      p99_us: medianOf(rounds, (r) => r[target].p99_us),
      rps: medianOf(rounds, (r) => r[target].rps),
      added_p50_us: medianOf(rounds, (r) => r[target].p50_us - r[base].p50_us),
      added_p99_us: medianOf(rounds, (r) => r[target].p99_us - r[base].p99_us),
      ok: rounds.every((r) => r[target].ok),
    };
  }
  return out;
}
