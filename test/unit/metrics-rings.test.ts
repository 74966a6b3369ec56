import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/daemon/metrics/index.js';
import type { RequestSample } from '../../src/daemon/metrics/index.js';

/** A seeded generator so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Event {
  second: number;
  model: string;
  error: boolean;
  tokens: number;
}

describe('metrics rings against a brute-force model', () => {
  it.each([1, 2, 3])('agree on every span after random gaps (seed %i)', (seed) => {
    const rand = rng(seed);
    const windowS = 90;
    let nowMs = 1_800_000_000_000;
    const m = createMetrics({ now: () => nowMs, windowS });
    const events: Event[] = [];
    for (let step = 0; step < 400; step++) {
      const r = rand();
      // mostly small steps, sometimes past the minute, rarely past the window
      nowMs += r < 0.7 ? Math.floor(rand() * 1500) : r < 0.95 ? Math.floor(rand() * 70_000) : 200_000;
      const n = Math.floor(rand() * 4);
      for (let i = 0; i < n; i++) {
        const e: Event = {
          second: Math.floor(nowMs / 1000),
          model: rand() < 0.5 ? 'a' : 'b',
          error: rand() < 0.2,
          tokens: Math.floor(rand() * 100),
        };
        events.push(e);
        const s: RequestSample = {
          channelId: 1,
          channelName: 'c',
          model: e.model,
          keyId: 1,
          keyName: 'k',
          status: e.error ? 500 : 200,
          errorCategory: e.error ? 'upstream' : null,
          inputTokens: e.tokens,
          outputTokens: 1,
          cost: 2,
          latencyMs: 10,
          ttftMs: null,
          stream: false,
        };
        m.requestStarted(s.model, s.keyId);
        m.requestFinished(s);
      }
      if (step % 7 !== 0) continue;
      const snap = m.snapshot([]);
      const now = Math.floor(nowMs / 1000);
      const within = (lo: number) => events.filter((e) => e.second > lo && e.second <= now);
      const minute = within(now - 60);
      const window = within(now - windowS - 1);
      expect(snap.summary.spend_per_min).toBe(minute.length * 2);
      const a = snap.models.find((r) => r.id === 'a');
      expect(a?.last_minute.requests ?? 0).toBe(minute.filter((e) => e.model === 'a').length);
      expect(a?.window.errors ?? 0).toBe(window.filter((e) => e.model === 'a' && e.error).length);
      expect(a?.window.input_tokens ?? 0).toBe(
        window.filter((e) => e.model === 'a').reduce((acc, e) => acc + e.tokens, 0),
      );
      const perSecond = snap.series.requests;
      for (let i = 0; i < perSecond.length; i++) {
        const second = snap.end_s - (perSecond.length - 1) + i;
        expect(perSecond[i]).toBe(events.filter((e) => e.second === second).length);
      }
      expect(snap.totals.requests).toBe(events.length);
    }
  });
});
