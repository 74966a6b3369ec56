import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/daemon/metrics/index.js';
import type { ChannelHealth, RequestSample } from '../../src/daemon/metrics/index.js';

const T0 = 1_700_000_000_000; // a whole second

const HEALTH: ChannelHealth[] = [
  { id: 1, name: 'main', type: 'openai', status: 'enabled', statusReason: null, cooldownUntil: null },
];

function sample(over: Partial<RequestSample> = {}): RequestSample {
  return {
    channelId: 1,
    channelName: 'main',
    model: 'gpt-4o',
    keyId: 7,
    keyName: 'ops',
    userId: null,
    userName: null,
    status: 200,
    errorCategory: null,
    inputTokens: 10,
    outputTokens: 20,
    cost: 300,
    latencyMs: 100,
    ttftMs: 40,
    stream: true,
    ...over,
  };
}

const alice = (keyId: number, over: Partial<RequestSample> = {}) =>
  sample({ keyId, keyName: `alice/k${keyId}`, userId: 1, userName: 'alice', ...over });
const bob = (over: Partial<RequestSample> = {}) =>
  sample({ keyId: 30, keyName: 'bob/main', userId: 2, userName: 'bob', ...over });

function setup(maxLabels?: number) {
  let t = T0;
  const m = createMetrics({ now: () => t, ...(maxLabels ? { maxLabels } : {}) });
  const finish = (s: RequestSample) => {
    m.requestStarted(s.model, s.keyId, s.userId);
    m.requestFinished(s);
  };
  return { m, finish, add: (ms: number) => (t += ms) };
}

describe('metrics by user', () => {
  it("adds up every key of a user in one row, and leaves operator keys out of the users' table", () => {
    const { m, finish, add } = setup();
    finish(alice(10));
    finish(alice(11, { inputTokens: 5, outputTokens: 1, cost: 1_000 }));
    finish(alice(11, { status: 502, errorCategory: 'upstream', cost: null, outputTokens: 0 }));
    finish(bob());
    finish(sample()); // an operator key: no user
    finish(sample({ keyId: 8, keyName: 'ops2' }));
    add(1000);
    const snap = m.snapshot(HEALTH);
    expect(snap.users.map((r) => [r.id, r.name])).toEqual([
      ['1', 'alice'],
      ['2', 'bob'],
    ]);
    const a = snap.users[0]!;
    expect(a.last_minute).toMatchObject({
      requests: 3,
      errors: 1,
      input_tokens: 25,
      output_tokens: 21,
      cost: 1_300,
    });
    expect(a.window).toEqual({ requests: 3, errors: 1, input_tokens: 25, output_tokens: 21, cost: 1_300 });
    expect(a.spark.at(-1)).toBe(3);
    expect(snap.users[1]!.last_minute).toMatchObject({ requests: 1, cost: 300 });
    // the keys keep their own rows beside it; the totals still count the operator's requests
    expect(snap.keys).toHaveLength(5);
    expect(snap.totals.requests).toBe(6);
  });

  it("counts a user's requests in flight across their keys", () => {
    const { m } = setup();
    m.requestStarted('gpt-4o', 10, 1);
    m.requestStarted('gpt-4o', 11, 1);
    m.requestStarted('gpt-4o', 7, null);
    let snap = m.snapshot(HEALTH);
    expect(snap.users.map((r) => [r.name, r.inflight])).toEqual([['#1', 2]]);
    expect(snap.summary.inflight).toBe(3);
    m.requestFinished(alice(10));
    snap = m.snapshot(HEALTH);
    expect(snap.users.map((r) => [r.name, r.inflight, r.last_minute.requests])).toEqual([['alice', 1, 1]]);
    m.requestFinished(alice(11));
    // a finish without a start does not take the gauge below zero
    m.requestFinished(alice(11));
    expect(m.snapshot(HEALTH).users[0]?.inflight).toBe(0);
  });

  it("follows a user's rename and drops an idle user once the window has passed", () => {
    const { m, finish, add } = setup();
    finish(bob());
    finish(bob({ userName: 'robert' }));
    expect(m.snapshot(HEALTH).users.map((r) => r.name)).toEqual(['robert']);
    add(899_000);
    expect(m.snapshot(HEALTH).users.map((r) => r.name)).toEqual(['robert']);
    add(2_000);
    expect(m.snapshot(HEALTH).users).toEqual([]);
  });

  it('caps the users tracked like keys: the ones beyond share `other`', () => {
    const { m, finish } = setup(2);
    for (let id = 1; id <= 5; id++) {
      finish(sample({ keyId: 100 + id, userId: id, userName: `u${id}` }));
      finish(sample({ keyId: 100 + id, userId: id, userName: `u${id}` }));
    }
    m.requestStarted('gpt-4o', 105, 5);
    const snap = m.snapshot(HEALTH);
    const rows = new Map(snap.users.map((r) => [r.id, r]));
    expect([...rows.keys()].sort()).toEqual(['1', '2', 'other']);
    expect(rows.get('other')).toMatchObject({ name: 'other', inflight: 1, window: { requests: 6 } });
    expect(rows.get('1')?.window.requests).toBe(2);
  });

  it('gives Prometheus no user label', () => {
    const { m, finish } = setup();
    finish(alice(10));
    finish(bob());
    const text = m.prometheus(HEALTH);
    expect(text).toContain('bc_requests_total');
    expect(text).not.toMatch(/alice|bob|user=/);
  });
});
