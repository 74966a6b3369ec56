/**
 * Cumulative Prometheus counters and histograms for one (model, channel) pair. The relay touches
 * one cell per finished request; cells are made once per pair (models are bounded, channels are
 * the configured ones), so label sets stay bounded and the hot path allocates nothing once warm.
 */
import type { RequestSample } from './types.js';

/** Upper bounds (seconds) of the request duration histogram; +Inf is implied. */
export const DURATION_BOUNDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;
/** Upper bounds (seconds) of the time-to-first-token histogram; +Inf is implied. */
export const TTFT_BOUNDS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30] as const;

export class Histogram {
  /** non-cumulative counts; the last slot is +Inf */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > (this.bounds[i] ?? Infinity)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += v;
    this.count++;
  }
}

export class PromCell {
  /** HTTP status -> requests */
  readonly statuses = new Map<number, number>();
  /** error category -> requests */
  readonly errors = new Map<string, number>();
  inputTokens = 0;
  outputTokens = 0;
  /** micro-USD */
  cost = 0;
  readonly duration = new Histogram(DURATION_BOUNDS);
  readonly ttft = new Histogram(TTFT_BOUNDS);

  constructor(
    readonly model: string,
    readonly channel: string,
  ) {}

  record(s: RequestSample, category: string | null): void {
    // statuses outside HTTP's range would let a buggy caller grow the label set without bound
    const status = s.status >= 100 && s.status <= 599 ? Math.trunc(s.status) : 0;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (category !== null) this.errors.set(category, (this.errors.get(category) ?? 0) + 1);
    this.inputTokens += s.inputTokens;
    this.outputTokens += s.outputTokens;
    if (s.cost !== null) this.cost += s.cost;
    this.duration.observe(s.latencyMs / 1000);
    if (s.ttftMs !== null) this.ttft.observe(s.ttftMs / 1000);
  }
}
