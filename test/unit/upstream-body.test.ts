import { describe, expect, it } from 'vitest';
import type { Dispatcher } from 'undici';
import { UpstreamBody } from '../../src/daemon/gateway/upstream.js';

/** A dispatch controller that records what the body asked of the connection. */
function fakeController(): Dispatcher.DispatchController & { calls: string[] } {
  const calls: string[] = [];
  let paused = false;
  let aborted = false;
  return {
    calls,
    get paused() {
      return paused;
    },
    get aborted() {
      return aborted;
    },
    reason: null,
    pause() {
      paused = true;
      calls.push('pause');
    },
    resume() {
      paused = false;
      calls.push('resume');
    },
    abort(reason: Error) {
      aborted = true;
      calls.push(`abort:${reason.message}`);
    },
  };
}

describe('UpstreamBody', () => {
  it('hands out chunks that queued up while the reader was busy as one buffer, then ends', async () => {
    const body = new UpstreamBody();
    let done = 0;
    body.attach(fakeController(), () => done++);
    body.push(Buffer.from('ab'));
    body.push(Buffer.from('cd'));
    const first = await body.next();
    expect(first).toEqual({ value: Buffer.from('abcd'), done: false });
    const pending = body.next();
    body.push(Buffer.from('ef'));
    expect(await pending).toEqual({ value: Buffer.from('ef'), done: false });
    body.end();
    expect(await body.next()).toEqual({ value: undefined, done: true });
    expect(done).toBe(1);
  });

  it('pauses the upstream above the high-water mark and resumes once the reader takes the queue', async () => {
    const body = new UpstreamBody();
    const c = fakeController();
    body.attach(c, () => undefined);
    body.push(Buffer.alloc(200 * 1024));
    expect(c.calls).toEqual([]);
    body.push(Buffer.alloc(100 * 1024));
    expect(c.calls).toEqual(['pause']);
    const r = await body.next();
    expect(r.value?.length).toBe(300 * 1024);
    expect(c.calls).toEqual(['pause', 'resume']);
  });

  it('delivers what arrived before a transport failure, then throws it', async () => {
    const body = new UpstreamBody();
    body.attach(fakeController(), () => undefined);
    body.push(Buffer.from('partial'));
    body.fail(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of body) seen.push(chunk.toString());
      })(),
    ).rejects.toThrow('other side closed');
    expect(seen).toEqual(['partial']);
  });

  it('hands a chunk straight to a waiting reader, and wakes it with the end or a failure', async () => {
    const c = fakeController();
    const body = new UpstreamBody();
    body.attach(c, () => undefined);
    const first = body.next();
    body.push(Buffer.from('x'.repeat(300 * 1024)));
    const r = await first;
    expect(r.done).toBe(false);
    expect(r.value?.length).toBe(300 * 1024);
    // nothing was queued, so a chunk over the high-water mark never paused the upstream
    expect(c.calls).toEqual([]);
    const last = body.next();
    body.end();
    expect(await last).toEqual({ value: undefined, done: true });

    const failing = new UpstreamBody();
    failing.attach(fakeController(), () => undefined);
    const waiting = failing.next();
    failing.fail(new Error('other side closed'));
    await expect(waiting).rejects.toThrow('other side closed');
  });

  it('readAll concatenates a multi-chunk body; readCapped stops at the cap and aborts the transfer', async () => {
    const whole = new UpstreamBody();
    whole.attach(fakeController(), () => undefined);
    const all = whole.readAll();
    whole.push(Buffer.from('{"a":'));
    await Promise.resolve();
    whole.push(Buffer.from('1}'));
    whole.end();
    expect((await all).toString()).toBe('{"a":1}');

    const capped = new UpstreamBody();
    const c = fakeController();
    capped.attach(c, () => undefined);
    capped.push(Buffer.from('x'.repeat(100)));
    expect(await capped.readCapped(10)).toBe('x'.repeat(10));
    expect(c.calls).toEqual(['abort:response body destroyed']);
  });

  it('breaking out of a for-await loop closes the transfer', async () => {
    const body = new UpstreamBody();
    const c = fakeController();
    body.attach(c, () => undefined);
    body.push(Buffer.from('one'));
    for await (const chunk of body) {
      expect(chunk.toString()).toBe('one');
      break;
    }
    expect(c.calls).toEqual(['abort:response body destroyed']);
    await expect(body.next()).rejects.toThrow('response body destroyed');
  });
});
