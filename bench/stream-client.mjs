// Streaming load client (scenario D, E, F): keeps N SSE streams open at once for a while (each
// slot opens a new stream when its last one ends; the first wave is spread over --ramp-ms), and
// measures time to the first content frame (TTFT), the gaps between content frames, frames lost
// (fewer than --expect content deltas or no end marker) and stalls (a gap over 2x --pace-ms).
// Usage: node bench/stream-client.mjs --url U --headers JSON --body-file F --streams N --seconds S
//        [--shape openai|anthropic] [--expect 64] [--pace-ms 20] [--ramp-ms 1000]
// Prints one JSON line with the summary (times in µs).
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { percentile } from './lib/stats.mjs';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string' },
    headers: { type: 'string', default: '{}' },
    'body-file': { type: 'string' },
    streams: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '3' },
    shape: { type: 'string', default: 'openai' },
    expect: { type: 'string', default: '64' },
    'pace-ms': { type: 'string', default: '20' },
    'ramp-ms': { type: 'string', default: '1000' },
  },
});
const N = Number(o.streams);
const EXPECT = Number(o.expect);
const STALL_MS = 2 * Number(o['pace-ms']);
const url = new URL(o.url);
const headers = JSON.parse(o.headers);
const body = fs.readFileSync(o['body-file']);
const CONTENT = o.shape === 'anthropic' ? /"text_delta"/ : /"content":"[^"]/;
const END = o.shape === 'anthropic' ? '"message_stop"' : 'data: [DONE]';
const pool = new Pool(url.origin, {
  connections: N,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  bodyTimeout: 30_000,
  headersTimeout: 30_000,
});

const ttfts = [];
const gaps = [];
const r = {
  started: 0,
  complete: 0,
  lost: 0,
  stalled: 0,
  errors: 0,
  non2xx: 0,
  max_gap_us: 0,
  first_error: null,
};

/** One stream through undici's raw dispatch (no stream objects: the client must stay cheap). */
function oneStream() {
  r.started++;
  const t0 = performance.now();
  const st = { status: 0, last: null, frames: 0, ended: false, stalled: false, rest: '', text: '' };
  return new Promise((resolve) => {
    pool.dispatch(
      { path: url.pathname, method: 'POST', headers, body },
      {
        onRequestStart() {},
        onResponseStart(_c, statusCode) {
          st.status = statusCode;
        },
        onResponseData(_c, chunk) {
          if (st.status !== 200) st.text += chunk;
          else onChunk(st, chunk.toString('latin1'), t0);
        },
        onResponseEnd() {
          finish(st);
          resolve();
        },
        onResponseError(_c, e) {
          r.errors++;
          r.first_error ??= String(e.message ?? e);
          resolve();
        },
      },
    );
  });
}

function onChunk(st, chunk, t0) {
  const now = performance.now();
  const parts = (st.rest + chunk).split('\n\n');
  st.rest = parts.pop();
  let content = 0;
  for (const f of parts) {
    if (CONTENT.test(f)) content++;
    else if (f.includes(END)) st.ended = true;
  }
  if (content === 0) return;
  if (st.last === null) ttfts.push((now - t0) * 1000);
  else {
    const gap = (now - st.last) * 1000;
    gaps.push(gap);
    if (gap > r.max_gap_us) r.max_gap_us = gap;
    if (gap > STALL_MS * 1000) st.stalled = true;
  }
  st.last = now;
  st.frames += content;
}

function finish(st) {
  if (st.status !== 200) {
    r.non2xx++;
    r.first_error ??= `${st.status} ${st.text.slice(0, 200)}`;
    return;
  }
  if (st.rest.includes(END)) st.ended = true;
  if (st.frames >= EXPECT && st.ended) r.complete++;
  else r.lost++;
  if (st.stalled) r.stalled++;
}

async function slot(i, deadline, rampMs) {
  await delay((rampMs * i) / N);
  do await oneStream();
  while (performance.now() < deadline);
}

const rampMs = Math.min(Number(o['ramp-ms']), Number(o.seconds) * 500);
const deadline = performance.now() + Number(o.seconds) * 1000;
await Promise.all(Array.from({ length: N }, (_, i) => slot(i, deadline, rampMs)));
await pool.close();
const p = (a, q) => (a.length === 0 ? null : Math.round(percentile(a, q)));
process.stdout.write(
  `${JSON.stringify({
    streams: N,
    ...r,
    max_gap_us: Math.round(r.max_gap_us),
    ttft_p50_us: p(ttfts, 50),
    ttft_p99_us: p(ttfts, 99),
    gap_p50_us: p(gaps, 50),
    gap_p99_us: p(gaps, 99),
    sustained: r.started > 0 && r.complete === r.started && r.stalled === 0,
  })}\n`,
);
