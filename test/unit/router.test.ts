// Channel choice (router.ts) over a real snapshot and health book: the highest priority tier
// first, smooth weighted round-robin inside a tier (exact order), the key group, channels already
// tried or cooling or with every secret disabled skipped, the upstream model a channel serves the
// request as (and `allow` ruling channels out by it), secrets taken in turn, and how long a
// client must wait when everything cools.
import { describe, expect, it } from 'vitest';
import type { ChannelRecord } from '../../src/daemon/store/types.js';
import { buildSnapshot, type Snapshot } from '../../src/daemon/gateway/snapshot.js';
import { HealthBook } from '../../src/daemon/gateway/routing/health.js';
import { Router } from '../../src/daemon/gateway/routing/router.js';
import { channel } from '../support/money-state.js';

const T0 = 1_767_225_600_000;
const secrets = (...disabled: (string | null)[]) =>
  disabled.map((reason, i) => ({ enc: `sk-${i}`, masked: `sk-${i}`, disabledReason: reason }));

function setup(channels: ChannelRecord[]) {
  let now = T0;
  const health = new HealthBook(() => now);
  const router = new Router(health);
  const snap: Snapshot = buildSnapshot(channels, [], [], [], { decrypt: (s: string) => s });
  /** names of the channels `n` successive picks choose (nothing tried yet each time) */
  const picks = (n: number, model = 'm', group = 'default'): (string | undefined)[] =>
    Array.from({ length: n }, () => router.next(snap, model, group, new Set())?.channel.record.name);
  return { health, router, snap, picks, at: (ms: number) => (now = T0 + ms) };
}

const ch = (name: string, over: Partial<ChannelRecord> = {}): ChannelRecord =>
  channel('openai', ['m'], { name, secrets: secrets(null), ...over });

describe('Router.next', () => {
  it('spreads a tier by weight in the smooth round-robin order, ties to the first channel', () => {
    const { picks } = setup([ch('a', { weight: 3 }), ch('b', { weight: 1 })]);
    expect(picks(8)).toEqual(['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a']);
    const even = setup([ch('x', { weight: 1 }), ch('y', { weight: 1 }), ch('z', { weight: 1 })]);
    expect(even.picks(6)).toEqual(['x', 'y', 'z', 'x', 'y', 'z']);
    const five = setup([ch('p', { weight: 5 }), ch('q', { weight: 1 }), ch('r', { weight: 1 })]);
    expect(five.picks(7)).toEqual(['p', 'p', 'q', 'p', 'r', 'p', 'p']);
  });

  it('keeps the round-robin of each model apart', () => {
    const { picks } = setup([ch('a', { models: ['m', 'n'] }), ch('b', { models: ['m', 'n'] })]);
    expect(picks(1, 'm')).toEqual(['a']);
    expect(picks(1, 'n')).toEqual(['a']);
    expect(picks(1, 'm')).toEqual(['b']);
  });

  it('takes the highest priority tier first and falls through when it is tried or cooling', () => {
    const { router, snap, health, at } = setup([
      ch('low', { priority: 1 }),
      ch('high', { priority: 10 }),
      ch('mid', { priority: 5 }),
    ]);
    const next = (tried: number[] = []) =>
      router.next(snap, 'm', 'default', new Set(tried))?.channel.record.name;
    const id = (name: string) => snap.channels.find((c) => c.record.name === name)!.record.id;
    expect(next()).toBe('high');
    expect(next([id('high')])).toBe('mid');
    expect(next([id('high'), id('mid')])).toBe('low');
    expect(next([id('high'), id('mid'), id('low')])).toBeUndefined();
    health.failure(id('high'), 0);
    expect(next()).toBe('mid');
    at(5_000);
    expect(next()).toBe('high'); // the half-open probe
    expect(next()).toBe('mid'); // while it is out
  });

  it("serves only the key group's channels, and nothing for a model no channel serves", () => {
    const { router, snap } = setup([ch('vip', { groups: ['vip'] }), ch('std')]);
    expect(router.next(snap, 'm', 'vip', new Set())?.channel.record.name).toBe('vip');
    expect(router.next(snap, 'm', 'vip', new Set())?.channel.record.name).toBe('vip');
    expect(router.next(snap, 'm', 'default', new Set())?.channel.record.name).toBe('std');
    expect(router.next(snap, 'm', 'nobody', new Set())).toBeUndefined();
    expect(router.next(snap, 'ghost', 'default', new Set())).toBeUndefined();
  });

  it('skips a channel whose secrets are all disabled, and takes the others in turn', () => {
    const { router, snap, picks } = setup([
      ch('off', { secrets: secrets('401 from upstream'), priority: 9 }),
      ch('three', { secrets: secrets(null, 'revoked', null) }),
    ]);
    const secretsTaken = Array.from(
      { length: 4 },
      () => router.next(snap, 'm', 'default', new Set())?.secret.index,
    );
    expect(secretsTaken).toEqual([0, 2, 0, 2]);
    expect(picks(1)).toEqual(['three']);
  });

  it('takes secrets in turn, passing over one that is cooling', () => {
    const { router, snap, health } = setup([ch('k', { secrets: secrets(null, null, null) })]);
    const secret = () => router.next(snap, 'm', 'default', new Set())?.secret;
    expect([secret()?.index, secret()?.index, secret()?.index, secret()?.index]).toEqual([0, 1, 2, 0]);
    health.failure(snap.channels[0]!.record.id, 1);
    expect([secret()?.index, secret()?.index, secret()?.index]).toEqual([2, 0, 2]);
    expect(secret()?.secret).toBe('sk-0');
  });

  it('leaves the round-robin of a channel that cannot serve as it was, so it is first back', () => {
    const { picks, health, snap, at } = setup([ch('a'), ch('b')]);
    health.failure(snap.channels[0]!.record.id, 0);
    expect(picks(3)).toEqual(['b', 'b', 'b']);
    at(5_000);
    // the half-open probe goes to the recovered channel, then the other serves while it is out
    expect(picks(3)).toEqual(['a', 'b', 'b']);
  });

  it('names the upstream model and lets `allow` rule channels out by it', () => {
    const { router, snap } = setup([
      channel('openai', [], { name: 'alias', map: { m: 'up-1' }, secrets: secrets(null), priority: 5 }),
      ch('plain'),
    ]);
    expect(router.next(snap, 'm', 'default', new Set())).toMatchObject({ upstreamModel: 'up-1' });
    const noUp1 = (up: string) => up !== 'up-1';
    expect(router.next(snap, 'm', 'default', new Set(), noUp1)).toMatchObject({
      channel: { record: { name: 'plain' } },
      upstreamModel: 'm',
    });
    expect(router.next(snap, 'm', 'default', new Set(), () => false)).toBeUndefined();
  });
});

describe('Router.serves and soonestMs', () => {
  it("serves a model when an enabled channel of the key's group does, whatever its health", () => {
    const { router, snap, health } = setup([ch('vip', { groups: ['vip'] })]);
    health.failure(snap.channels[0]!.record.id, 0);
    expect(router.serves(snap, 'm', 'vip')).toBe(true);
    expect(router.serves(snap, 'm', 'default')).toBe(false);
    expect(router.serves(snap, 'ghost', 'vip')).toBe(false);
    // one channel of one tier is enough
    const mixed = setup([ch('hi', { priority: 9 }), ch('lo-std'), ch('lo-vip', { groups: ['vip'] })]);
    expect(mixed.router.serves(mixed.snap, 'm', 'vip')).toBe(true);
  });

  it('is the shortest wait of any usable secret of a candidate channel, 0 when one is ready', () => {
    const { router, snap, health } = setup([
      ch('a', { secrets: secrets(null, null, 'revoked') }),
      ch('b', { priority: 3 }),
      ch('other', { groups: ['vip'] }),
    ]);
    const id = (name: string) => snap.channels.find((c) => c.record.name === name)!.record.id;
    expect(router.soonestMs(snap, 'm', 'default')).toBe(0);
    health.failure(id('b'), 0, 40_000);
    health.failure(id('a'), 0, 30_000);
    expect(router.soonestMs(snap, 'm', 'default')).toBe(0);
    health.failure(id('a'), 1, 20_000);
    // the disabled secret is never ready, the other group's channel is no candidate
    expect(router.soonestMs(snap, 'm', 'default')).toBe(20_000);
    health.failure(id('a'), 1, 50_000);
    expect(router.soonestMs(snap, 'm', 'default')).toBe(30_000);
  });

  it('is undefined when no enabled secret of any candidate could serve', () => {
    const { router, snap } = setup([
      ch('off', { secrets: secrets('revoked') }),
      ch('vip', { groups: ['vip'] }),
    ]);
    expect(router.soonestMs(snap, 'm', 'default')).toBeUndefined();
    expect(router.soonestMs(snap, 'ghost', 'default')).toBeUndefined();
  });
});
