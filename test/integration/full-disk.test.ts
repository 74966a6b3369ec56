/**
 * A full disk under a real daemon (`bc start`), everything it writes (database, settlement
 * journal, logs/daemon.log) on one 4 MiB tmpfs that is filled while requests flow through three
 * healthy channels. Mounting needs root, as CI runs; where it is impossible the test fails and
 * says so, it never skips. What must hold (README, "Failure guarantees"):
 *  - /healthz and the control socket (`bc status`) keep answering within a second;
 *  - every client gets a clean answer: served, 503 store_unavailable, or (a stream that began)
 *    the store's in-stream error; never a 502, a "cooling down" 503 or an internal error text;
 *  - no request reaches more than one upstream, once the store is known to fail requests reach
 *    none, and no channel is cooled down;
 *  - once space is freed requests are served and logged again by themselves, and nothing was
 *    charged without its row: the key's spend in the store equals the sum of its rows' costs,
 *    and the gateway's in-memory spend equals the store's.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiChannelArgs, runBc, type RunBcResult } from '../support/cli.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { ChannelView, KeyCreated, KeyView, LogRow, StatusView } from '../../src/shared/control-api.js';

const SIZE = '4m';
let mnt: string;
let mounted = false;
let sims: OpenAISim[] = [];
let gateway = '';
let socket = '';

const bc = (args: string[], env: Record<string, string> = {}): Promise<RunBcResult> =>
  runBc(args, {
    home: mnt,
    env: { BC_LISTEN: '127.0.0.1:0', BC_LOG_LEVEL: 'info', ...env },
    timeoutMs: 30_000,
  });

async function bcJson<T>(args: string[]): Promise<T> {
  const r = await bc([...args, '--json']);
  if (r.code !== 0) throw new Error(`bc ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE},mode=0700`, 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    throw new Error(
      `cannot mount a ${SIZE} tmpfs on ${mnt}: this test fills a real filesystem and needs root ` +
        `(CI runs as root): ${(err as Error).message}`,
    );
  }
  sims = await Promise.all([startOpenAISim(), startOpenAISim(), startOpenAISim()]);
  const started = await bc(['start']);
  if (started.code !== 0) throw new Error(`bc start failed: ${started.stderr}`);
  const status = await bcJson<StatusView>(['status']);
  gateway = `http://${status.listen}`;
  socket = status.socket;
}, 60_000);

afterAll(async () => {
  if (mnt === undefined) return;
  if (gateway) await bc(['stop', '--timeout', '10s']).catch(() => undefined);
  await Promise.all(sims.map((s) => s.close()));
  if (mounted) {
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
    }
  }
  fs.rmSync(mnt, { recursive: true, force: true });
}, 60_000);

type Kind = 'ok' | 'refused' | 'cut' | 'bad';

interface Result {
  marker: string;
  kind: Kind;
  requestId: string;
  detail: string;
  at: number;
}

/** One request with a marker the simulators record; classified by what the client got. */
async function fire(key: string, n: number, stream: boolean): Promise<Result> {
  const marker = `marker-${n}`;
  const at = Date.now();
  try {
    const res = await fetch(`${gateway}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'm',
        messages: [{ role: 'user', content: marker }],
        stream,
        metadata: { 'x-sim-deltas': '4', 'x-sim-pace-ms': stream ? '5' : '0' },
      }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    const requestId = res.headers.get('x-request-id') ?? '';
    return {
      marker,
      kind: classify(res.status, text, stream),
      requestId,
      detail: `${res.status} ${text.slice(-300)}`,
      at,
    };
  } catch (err) {
    return { marker, kind: 'bad', requestId: '', detail: String(err), at };
  }
}

function classify(status: number, text: string, stream: boolean): Kind {
  if (/EPERM|ENOSPC|SQLITE|no space|bc-full-/i.test(text)) return 'bad';
  if (status === 503) {
    const body = JSON.parse(text) as { error?: { code?: string } };
    return body.error?.code === 'store_unavailable' ? 'refused' : 'bad';
  }
  if (status !== 200) return 'bad';
  if (!stream) return text.includes('"choices"') ? 'ok' : 'bad';
  if (text.includes('data: [DONE]')) return 'ok';
  const last = text.trim().split('\n\n').at(-1) ?? '';
  return last.includes('"store_unavailable"') ? 'cut' : 'bad';
}

/** Fills the filesystem to the last byte it takes; returns the filler's path. */
function fill(): string {
  const filler = path.join(mnt, 'filler');
  const fd = fs.openSync(filler, 'w');
  for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
    const buf = Buffer.alloc(size, 1);
    try {
      for (;;) fs.writeSync(fd, buf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    }
  }
  fs.closeSync(fd);
  return filler;
}

function get(
  url: string,
  opts: { socketPath?: string } = {},
): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { ...opts, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer in 5 s`)));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sim calls per marker, over all three simulators. */
function callsByMarker(): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of sims)
    for (const c of s.calls) {
      const m = /marker-\d+/.exec(c.body.toString('utf8'))?.[0];
      if (m) out.set(m, (out.get(m) ?? 0) + 1);
    }
  return out;
}

describe('BC_HOME on a filesystem that fills up while requests flow', () => {
  it('answers cleanly, calls no upstream twice, charges nothing unrecorded, and recovers by itself', async () => {
    for (const [i, s] of sims.entries())
      expect(
        (await bc(openaiChannelArgs(`c${i}`, `sk-c${i}-0000000000`, 'm', '--base-url', s.url))).code,
      ).toBe(0);
    expect((await bc(['price', 'set', 'm', '--input', '3', '--output', '7'])).code).toBe(0);
    const key = (await bcJson<KeyCreated>(['key', 'create', '--name', 'load', '--budget', '1000'])).key;

    const results: Result[] = [];
    let n = 0;
    let flowing = true;
    const workers = Array.from({ length: 6 }, async (_, w) => {
      while (flowing) results.push(await fire(key, n++, (w + n) % 2 === 0));
    });
    await sleep(1000);
    expect(results.filter((r) => r.kind === 'ok').length).toBeGreaterThan(0);

    const filler = fill();
    const filledAt = Date.now();
    // while it is full: liveness, the control socket and readiness answer at once
    const probes: { healthz: number; status: number }[] = [];
    let fault: StatusView['store_fault'] = null;
    for (let i = 0; i < 8; i++) {
      await sleep(300);
      const h = await get(`${gateway}/healthz`);
      const st = await get('http://bc/v1/status', { socketPath: socket });
      expect(h.status).toBe(200);
      expect(st.status).toBe(200);
      probes.push({ healthz: h.ms, status: st.ms });
      fault = (JSON.parse(st.body) as StatusView).store_fault;
    }
    // measured under two mutation jobs on 2 cores (load 7-14): the first probe after the fill
    // 195-628 ms (healthz) and 264-729 ms (status), the rest under 200 ms. A loop blocked on the
    // full disk answers no probe: get() gives up at 5 s. 2.5 s leaves room for load below that
    for (const p of probes) {
      expect(p.healthz).toBeLessThan(2500);
      expect(p.status).toBeLessThan(2500);
    }
    expect(fault?.reason).toMatch(/no space left on device \(ENOSPC\)|database or disk is full/);
    const ready = await get(`${gateway}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'not_ready', reason: 'store_unavailable' });
    // the CLI as an operator runs it: the store is named as failing
    const human = await bc(['status'], { NO_COLOR: '1' });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/writes\s+failing since .*: .*(ENOSPC|SQLITE_FULL)/);

    fs.rmSync(filler);
    const freedAt = Date.now();
    const deadline = freedAt + 10_000;
    while (Date.now() < deadline && !results.some((r) => r.kind === 'ok' && r.at > freedAt + 200))
      await sleep(100);
    await sleep(500);
    flowing = false;
    await Promise.all(workers);

    const bad = results.filter((r) => r.kind === 'bad');
    expect(bad.map((r) => r.detail)).toEqual([]);
    const during = results.filter((r) => r.at > filledAt + 500 && r.at < freedAt);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((r) => r.kind === 'refused' || r.kind === 'cut')).toBe(true);
    expect(results.some((r) => r.kind === 'ok' && r.at > freedAt)).toBe(true);

    // one upstream call at most per request; none once the store was known to fail
    const calls = callsByMarker();
    expect([...calls.values()].filter((c) => c > 1)).toEqual([]);
    const refusedUnasked = results.filter((r) => r.kind === 'refused' && !calls.has(r.marker));
    expect(refusedUnasked.length).toBeGreaterThan(0);
    for (const r of results.filter((x) => x.kind === 'ok')) expect(calls.get(r.marker)).toBe(1);
    const channels = await bcJson<ChannelView[]>(['channel', 'list']);
    expect(channels.map((c) => c.cooldown_until)).toEqual([null, null, null]);

    // served and logged again, and no money without a row
    expect((await get(`${gateway}/readyz`)).status).toBe(200);
    const after = await Promise.all([0, 1, 2, 3].map((i) => fire(key, 1_000_000 + i, i % 2 === 0)));
    expect(after.map((r) => r.kind)).toEqual(['ok', 'ok', 'ok', 'ok']);
    const rows = await bcJson<LogRow[]>(['logs', '--key', 'load', '--limit', '10000']);
    expect(rows.length).toBeLessThan(10_000);
    const logged = new Set(rows.map((r) => r.request_id));
    for (const r of [...results, ...after].filter((x) => x.kind === 'ok'))
      expect(logged.has(r.requestId)).toBe(true);
    const k = (await bcJson<KeyView[]>(['key', 'list'])).find((x) => x.name === 'load')!;
    const rowsCost = rows.reduce((sum, r) => sum + (r.cost ?? 0), 0);
    expect(k.spent).toBeGreaterThan(0);
    expect(k.spent).toBe(rowsCost);
    // the gateway's own ledger (One API's usage endpoint, in cents) agrees with the store
    const usage = await fetch(`${gateway}/v1/dashboard/billing/usage`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const cents = ((await usage.json()) as { total_usage: number }).total_usage;
    expect(Math.round(cents * 10_000)).toBe(k.spent);
    const st = await bcJson<StatusView>(['status']);
    expect(st.store_fault).toBeNull();
  }, 120_000);
});
