// Scenario A: pure overhead. c=1, 0 ms upstream, non-stream; direct, floor, gateway and peer in
// interleaved rounds (order rotated each round). Per round, each target's p50/p99 minus direct's
// in the same round is its added latency; the summary is the median over rounds.
import { TARGETS } from '../lib/topology.mjs';
import { wrk } from '../lib/wrk.mjs';
import { measure, medianOf, rotate, warm } from './common.mjs';

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
    ctx.log(
      `A round ${r + 1}/${plan.A.rounds}: p50 µs ${TARGETS.map((x) => `${x} ${round[x].p50_us}`).join(', ')}`,
    );
    rounds.push(round);
  }
  return { rounds, summary: summarise(rounds, TARGETS, 'direct') };
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
