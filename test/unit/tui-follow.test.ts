import { describe, expect, it } from 'vitest';
import { followMetrics, type Connection } from '../../src/tui/hooks/follow-metrics.js';
import type { MetricsSnapshot } from '../../src/shared/metrics-types.js';
import { INITIAL_TOP_STATE, reduceTop, topActionForKey, type TopState } from '../../src/tui/top/top-state.js';
import type { Key } from 'ink';
import { FakeDaemon, scenario, until } from './tui-fake-daemon.js';

function recorder() {
  const snaps: MetricsSnapshot[] = [];
  const states: [Connection, string | null][] = [];
  return {
    snaps,
    states,
    on: {
      snapshot: (s: MetricsSnapshot) => snaps.push(s),
      connection: (c: Connection, r: string | null) => states.push([c, r]),
    },
  };
}

describe('followMetrics', () => {
  it('delivers snapshots, skips foreign documents, and reconnects after the daemon comes back', async () => {
    const daemon = new FakeDaemon();
    const sc = scenario();
    daemon.push(sc.snapshot());
    const r = recorder();
    const ac = new AbortController();
    const done = followMetrics(daemon, r.on, ac.signal, { backoffMs: [5, 20], staleMs: 5000 });
    await until(() => r.snaps.length === 1);
    daemon.push({ hello: 'not a snapshot' });
    sc.traffic(3);
    daemon.push(sc.snapshot());
    await until(() => r.snaps.length === 2);
    expect(r.snaps[1]?.totals.requests).toBe(3);
    daemon.crash();
    await until(() => r.states.length > 0);
    expect(r.states[0]).toEqual(['reconnecting', 'socket hang up']);
    await until(() => daemon.opened >= 4, 5000, 'retries while down');
    expect(r.states.at(-1)?.[1]).toContain('ENOENT');
    daemon.up();
    await until(() => r.snaps.length === 3, 5000, 'snapshot after the restart');
    ac.abort();
    await done;
    const opened = daemon.opened;
    await new Promise((res) => setTimeout(res, 50));
    expect(daemon.opened).toBe(opened);
  });

  it('drops a stream that goes silent and opens a new one', async () => {
    const daemon = new FakeDaemon();
    daemon.push(scenario().snapshot());
    const r = recorder();
    const ac = new AbortController();
    const done = followMetrics(daemon, r.on, ac.signal, { backoffMs: [5], staleMs: 60 });
    await until(() => daemon.opened >= 2, 5000, 'a second stream');
    expect(daemon.aborted).toBeGreaterThanOrEqual(1);
    expect(r.states[0]).toEqual(['reconnecting', 'no data from the daemon']);
    ac.abort();
    await done;
  });
});

const noKey: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

function press(s: TopState, input: string, key: Partial<Key> = {}): TopState {
  const a = topActionForKey(input, { ...noKey, ...key }, s);
  return a ? reduceTop(s, a) : s;
}

describe('bc top key map', () => {
  it('cycles windows, sorts and views, and clamps the selection', () => {
    let s = INITIAL_TOP_STATE;
    s = press(s, 'w');
    expect(s.windowS).toBe(900);
    s = press(s, 'w');
    expect(s.windowS).toBe(60);
    for (const want of ['errors', 'p50', 'inflight', 'name', 'rpm']) {
      s = press(s, 's');
      expect(s.sort).toBe(want);
    }
    expect(press(s, 'r').descending).toBe(!s.descending);
    s = press(s, '', { tab: true });
    expect(s.view).toBe('channels');
    s = press(s, '', { tab: true, shift: true });
    expect(s.view).toBe('overview');
    s = reduceTop(s, { type: 'move', delta: 5, max: 2 });
    expect(s.selected).toBe(2);
    s = press(s, 'k');
    expect(s.selected).toBe(1);
  });

  it('types a filter without treating letters as commands', () => {
    let s = press(INITIAL_TOP_STATE, '/');
    for (const c of 'qws') s = press(s, c);
    expect(s.draft).toBe('qws');
    s = press(s, '', { backspace: true });
    s = press(s, '', { return: true });
    expect(s.filter).toBe('qw');
    expect(s.draft).toBeNull();
    expect(topActionForKey('q', noKey, s)).toEqual({ type: 'quit' });
    expect(topActionForKey('c', { ...noKey, ctrl: true }, press(s, '/'))).toEqual({ type: 'quit' });
  });
});
