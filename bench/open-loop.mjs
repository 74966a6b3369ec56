// Open-loop load in the manner of wrk2 (scenario C and the soak of E): request i is due at
// start + i/rate whatever happened before, and its latency is counted from that due time, so a
// slow server cannot slow the load down and hide its queueing (no coordinated omission). Requests
// still unanswered a grace period after the end count as failures. Like wrk2's calibration, the
// requests due in the first --calibrate-s seconds count for success but not for latency.
// Usage: node bench/open-loop.mjs --url U --headers JSON --body-file F --rate R --seconds S
//        [--connections 512] [--stream-body-file F2 --stream-share 0.1] [--grace-ms 5000]
// Prints one JSON line: scheduled, ok, failures by kind, success %, latency percentiles in µs.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setInterval, clearInterval } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { percentile } from './lib/stats.mjs';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string' },
    headers: { type: 'string', default: '{}' },
    'body-file': { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string', default: '512' },
    'stream-body-file': { type: 'string' },
    'stream-share': { type: 'string', default: '0' },
    'grace-ms': { type: 'string', default: '5000' },
    'calibrate-s': { type: 'string', default: '1' },
  },
});
const url = new URL(o.url);
const headers = JSON.parse(o.headers);
const body = fs.readFileSync(o['body-file']);
const streamBody = o['stream-body-file'] ? fs.readFileSync(o['stream-body-file']) : null;
const every = streamBody && Number(o['stream-share']) > 0 ? Math.round(1 / Number(o['stream-share'])) : 0;
const RATE = Number(o.rate);
const TOTAL = Math.round(RATE * Number(o.seconds));
const pool = new Pool(url.origin, {
  connections: Number(o.connections),
  keepAliveTimeout: 60_000,
  headersTimeout: 30_000,
  bodyTimeout: 30_000,
});

const lat = [];
const r = { scheduled: TOTAL, ok: 0, non2xx: 0, errors: 0, unfinished: 0, first_error: null };
let sent = 0;
let inflight = 0;
let done = false;

/** One request through undici's raw dispatch (no stream objects: the client must stay cheap). */
function fire(i, due) {
  inflight++;
  let status = 0;
  pool.dispatch(
    { path: url.pathname, method: 'POST', headers, body: every > 0 && i % every === 0 ? streamBody : body },
    {
      onRequestStart() {},
      onResponseStart(_c, statusCode) {
        status = statusCode;
      },
      onResponseData() {},
      onResponseEnd() {
        inflight--;
        if (status >= 200 && status < 300) {
          r.ok++;
          if (due >= calibrated) lat.push((performance.now() - due) * 1000);
        } else {
          r.non2xx++;
          r.first_error ??= `status ${status}`;
        }
      },
      onResponseError(_c, e) {
        inflight--;
        if (done) return;
        r.errors++;
        r.first_error ??= String(e.message ?? e);
      },
    },
  );
}

const start = performance.now();
// as wrk2 does, the first moments (connections still being opened) count for success, not latency
const calibrated = start + Number(o['calibrate-s']) * 1000;
await new Promise((resolve) => {
  const tick = setInterval(() => {
    const due = Math.min(TOTAL, Math.floor(((performance.now() - start) * RATE) / 1000) + 1);
    for (; sent < due; sent++) fire(sent, start + (sent * 1000) / RATE);
    if (sent >= TOTAL) {
      clearInterval(tick);
      resolve();
    }
  }, 1);
});
const graceEnd = performance.now() + Number(o['grace-ms']);
while (inflight > 0 && performance.now() < graceEnd) await delay(20);
done = true;
r.unfinished = inflight;
await pool.destroy();
const p = (q) => (lat.length === 0 ? null : Math.round(percentile(lat, q)));
process.stdout.write(
  `${JSON.stringify({
    rate: RATE,
    seconds: Number(o.seconds),
    ...r,
    success_pct: (100 * r.ok) / TOTAL,
    latency_from_s: Number(o['calibrate-s']),
    p50_us: p(50),
    p90_us: p(90),
    p99_us: p(99),
    p999_us: p(99.9),
    max_us: p(100),
    elapsed_s: (performance.now() - start) / 1000,
  })}\n`,
);
