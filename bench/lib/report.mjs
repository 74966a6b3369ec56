// The report: one side-by-side table (direct, floor, gateway, peer, and the ratios gateway/floor
// and peer/gateway) built from a results object, and the targets of issues 6 and 15 judged
// PASS/MISS (n/a when the run could not measure them). Rows of per-round ratios (A, B's c=64
// rounds) show the ratios' range in the gateway column and their median in the gw/floor column.
import { judgeA, judgeB, judgeD, judgeE } from './targets-issue15.mjs';

const COLS = ['direct', 'floor', 'gateway', 'peer'];
const MB_PER_MIB = 1.048576;

const fmt = (v, unit) => {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  if (typeof v === 'string') return v;
  if (unit === '%') return v.toFixed(2);
  if (unit === 'MiB' || unit === 'ms') return v.toFixed(1);
  return String(Math.round(v));
};
const ratio = (a, b) =>
  typeof a === 'number' && typeof b === 'number' && b !== 0 ? (a / b).toFixed(2) : '-';

/** A row of per-round ratios: their range as the gateway cell, their median as gw/floor. */
function roundRatioRow(add, label, r) {
  const v = r.rounds.filter((x) => x !== null);
  const range = v.length === 0 ? null : `${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)}`;
  add(label, 'x', { gateway: range }, r.median === null ? '-' : r.median.toFixed(2));
}

function rows(res) {
  const out = [];
  const add = (label, unit, vals, gwFloor) => out.push({ label: `${label} (${unit})`, unit, vals, gwFloor });
  const A = res.scenarios.A?.summary;
  if (A) {
    const pick = (k) => Object.fromEntries(COLS.map((c) => [c, A[c]?.[k]]));
    add('A c=1 0ms p50', 'µs', pick('p50_us'));
    add('A c=1 0ms p99', 'µs', pick('p99_us'));
    add('A added p50', 'µs', { ...pick('added_p50_us'), direct: null });
    add('A added p99', 'µs', { ...pick('added_p99_us'), direct: null });
    const r = res.scenarios.A.added_p50_ratio;
    if (r) roundRatioRow(add, 'A added p50 gw/floor per round', r);
  }
  const B = res.scenarios.B;
  if (B) {
    add('B c=64 0ms RPS', 'req/s', Object.fromEntries(COLS.map((c) => [c, B.capacity_c64_0ms[c]?.rps])));
    for (const [c, lv] of Object.entries(B.levels)) {
      add(`B c=${c} 20ms RPS`, 'req/s', Object.fromEntries(COLS.map((x) => [x, lv[x]?.rps])));
      add(`B c=${c} 20ms p99`, 'µs', Object.fromEntries(COLS.map((x) => [x, lv[x]?.p99_us])));
    }
    for (const [ms, r] of Object.entries(B.rounds_c64 ?? {})) {
      add(`B c=64 ${ms} RPS, median of rounds`, 'req/s', r.median_rps);
      roundRatioRow(add, `B c=64 ${ms} RPS gw/floor per round`, r.rps_ratio);
    }
  }
  for (const [rate, lv] of Object.entries(res.scenarios.C?.rates ?? {})) {
    add(`C ${rate}/s 60ms success`, '%', Object.fromEntries(COLS.map((x) => [x, lv[x]?.success_pct])));
    add(`C ${rate}/s 60ms p99`, 'µs', Object.fromEntries(COLS.map((x) => [x, lv[x]?.p99_us])));
  }
  streamRows(add, 'D', res.scenarios.D);
  const E = res.scenarios.E;
  if (res.idle_rss_mib) add('E idle RSS at start', 'MiB', res.idle_rss_mib);
  if (E) {
    add(
      'E RSS peak at 1000 streams',
      'MiB',
      Object.fromEntries(COLS.map((c) => [c, E.streams_1000[c]?.peak_mib])),
    );
    add(`E soak ${E.soak.rate}/s ${E.soak.seconds}s growth`, 'MiB/min', {
      gateway: E.soak.growth_mib_per_min?.toFixed(3) ?? null,
    });
    add('E RSS pre-load / after idle', 'MiB', {
      gateway: `${E.pre_load_mib.toFixed(1)} / ${E.after_idle_mib.toFixed(1)}`,
    });
  }
  const F = res.scenarios.F;
  if (F) {
    const s = F.summary;
    add('F conv c=1 p50', 'µs', {
      direct: s.direct_conv.p50_us,
      gateway: s.gateway_conv.p50_us,
      peer: s.peer_conv.p50_us,
    });
    add('F conv added p50', 'µs', { gateway: s.gateway_conv.added_p50_us, peer: s.peer_conv.added_p50_us });
    add('F conv added p99', 'µs', { gateway: s.gateway_conv.added_p99_us, peer: s.peer_conv.added_p99_us });
    add('F passthrough added p50', 'µs', { gateway: s.gateway_pass.added_p50_us });
    streamRows(add, 'F', F.stream);
  }
  const G = res.scenarios.G;
  if (G) {
    add('G node -e 0 median', 'ms', { direct: G.node_e0.median_ms });
    add('G bc channel list --json', 'ms', { gateway: G.channel_list.median_ms });
    add('G bc status', 'ms', { gateway: G.status.median_ms });
  }
  return out;
}

function streamRows(add, id, d) {
  if (!d) return;
  for (const [n, lv] of Object.entries(d.levels)) {
    const pick = (k) => Object.fromEntries(COLS.map((c) => [c, lv[c]?.[k]]));
    add(`${id} ${n} streams TTFT p50`, 'µs', pick('ttft_p50_us'));
    add(`${id} ${n} streams TTFT p99`, 'µs', pick('ttft_p99_us'));
    add(`${id} ${n} streams added TTFT p99`, 'µs', { ...pick('added_ttft_p99_us'), direct: null });
    add(`${id} ${n} streams gap p99`, 'µs', pick('gap_p99_us'));
    const ok = Object.fromEntries(
      COLS.map((c) => [
        c,
        lv[c] ? `${lv[c].complete}/${lv[c].started}${lv[c].stalled ? ` ${lv[c].stalled}st` : ''}` : null,
      ]),
    );
    add(`${id} ${n} streams complete/started`, 'n', ok);
  }
  add(`${id} max streams sustained`, 'n', d.max_sustained);
}

export function table(res) {
  const header = ['metric', ...COLS, 'gw/floor', 'peer/gw'];
  const body = rows(res).map((r) => [
    r.label,
    ...COLS.map((c) => fmt(r.vals[c], r.unit)),
    r.gwFloor ?? ratio(r.vals.gateway, r.vals.floor),
    ratio(r.vals.peer, r.vals.gateway),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}

/** Every target of issues 6 and 15 with its measured value and PASS / MISS / n/a. */
export function targets(res) {
  const s = res.scenarios;
  const out = [];
  const judge = (id, text, value, pass, note = '') => out.push({ id, text, value, pass, note });
  const A = s.A?.summary;
  if (A) {
    const g = A.gateway;
    judge(
      'A1',
      'added p50 <= 1.3x floor added p50',
      `${g.added_p50_us} vs ${A.floor.added_p50_us} µs (${ratio(g.added_p50_us, A.floor.added_p50_us)}x)`,
      g.added_p50_us <= 1.3 * A.floor.added_p50_us,
    );
    judge(
      'A2',
      'added p50 >= 5x lower than peer',
      `${g.added_p50_us} vs ${A.peer.added_p50_us} µs (${ratio(A.peer.added_p50_us, g.added_p50_us)}x)`,
      A.peer.added_p50_us >= 5 * g.added_p50_us,
    );
    judge(
      'A3',
      'added p99 >= 5x lower than peer',
      `${g.added_p99_us} vs ${A.peer.added_p99_us} µs (${ratio(A.peer.added_p99_us, g.added_p99_us)}x)`,
      A.peer.added_p99_us >= 5 * g.added_p99_us,
    );
    judgeA(s.A, judge);
  }
  if (s.B) {
    const lv = Object.entries(s.B.levels).map(([c, l]) => [c, l.gateway.rps / l.floor.rps]);
    const worst = lv.reduce((a, b) => (b[1] < a[1] ? b : a));
    judge(
      'B1',
      'RPS >= 0.75x floor at every c',
      `worst ${worst[1].toFixed(2)}x at c=${worst[0]}`,
      lv.every(([, x]) => x >= 0.75),
      lv.map(([c, x]) => `c=${c} ${x.toFixed(2)}x`).join(', '),
    );
    const l64 = s.B.levels[64];
    judge(
      'B2',
      'RPS >= 10x peer at c=64',
      l64?.peer
        ? `${Math.round(l64.gateway.rps)} vs ${Math.round(l64.peer.rps)} (${ratio(l64.gateway.rps, l64.peer.rps)}x)`
        : 'peer not run',
      l64?.peer ? l64.gateway.rps >= 10 * l64.peer.rps : null,
    );
    judgeB(s.B, judge);
  }
  const c2k = s.C?.rates?.[2000];
  if (c2k) {
    const g = c2k.gateway;
    judge(
      'C1',
      '100.0% success at 2,000 RPS',
      `${g.ok}/${g.scheduled} (${g.success_pct.toFixed(3)} %)`,
      g.ok === g.scheduled,
    );
    const d = (g.p99_us - c2k.direct.p99_us) / 1000;
    judge(
      'C2',
      'p99 within 20 ms of direct at 2,000 RPS',
      `${(g.p99_us / 1000).toFixed(1)} vs ${(c2k.direct.p99_us / 1000).toFixed(1)} ms (${d >= 0 ? '+' : ''}${d.toFixed(1)})`,
      g.ok > 0 && d <= 20,
    );
  }
  if (s.D) {
    // judged at 64 streams: one stream gives too few TTFT samples for a p99
    const lv = s.D.levels[64];
    if (lv) {
      const v = lv.gateway.added_ttft_p99_us;
      judge(
        'D1',
        'added TTFT p99 <= 1 ms (64 streams)',
        `${v} µs (floor ${lv.floor?.added_ttft_p99_us ?? '-'}, peer ${lv.peer?.added_ttft_p99_us ?? '-'} µs)`,
        v !== null ? v <= 1000 : null,
        lv.direct.sustained ? '' : 'direct itself stalled: load side busy, TTFTs noisy',
      );
    }
    const top = Math.max(...Object.keys(s.D.levels).map(Number));
    const directOk = s.D.levels[top].direct.sustained;
    const g = s.D.max_sustained.gateway;
    judge(
      'D2',
      '>= 512 streams, no frame lost, no gap > 2x pace',
      `${g} (floor ${s.D.max_sustained.floor ?? '-'}, peer ${s.D.max_sustained.peer ?? '-'})`,
      g >= 512 ? true : top < 512 ? null : directOk ? false : null,
      directOk ? '' : `direct itself not sustained at ${top}: load side saturated`,
    );
    judgeD(s.D, judge);
  }
  const idle = res.idle_rss_mib?.gateway;
  if (idle) judge('E1', 'idle RSS <= 60 MB', `${(idle * MB_PER_MIB).toFixed(1)} MB`, idle * MB_PER_MIB <= 60);
  const E = s.E;
  if (E) {
    const peak = E.streams_1000.gateway.peak_mib * MB_PER_MIB;
    judge('E2', '<= 250 MB at 1,000 concurrent streams', `${peak.toFixed(1)} MB`, peak <= 250);
    const gr = E.soak.growth_mib_per_min * MB_PER_MIB;
    const short =
      res.mode === 'quick' ? 'quick mode: a short soak still sees the heap grow to its working size' : '';
    judge(
      'E3',
      'soak growth <= 0.5 MB/min',
      `${gr.toFixed(3)} MB/min over ${E.soak.seconds} s`,
      gr <= 0.5,
      short,
    );
    judge(
      'E4',
      'after idle within 10% of pre-load',
      `${E.after_idle_mib.toFixed(1)} vs ${E.pre_load_mib.toFixed(1)} MiB (${E.after_idle_vs_pre_pct.toFixed(1)} %) after ${E.idle_s} s`,
      E.after_idle_vs_pre_pct <= 10,
      short,
    );
    judgeE(E, judge);
  }
  const F = s.F?.summary;
  if (F) {
    const c = F.gateway_conv.added_p50_us;
    const p = F.gateway_pass.added_p50_us;
    judge(
      'F1',
      'conversion added p50 <= 2x passthrough',
      `${c} vs ${p} µs (${ratio(c, p)}x; peer ${F.peer_conv.added_p50_us} µs)`,
      c <= 2 * p,
    );
  }
  const G = s.G;
  if (G) {
    for (const k of ['channel_list', 'status']) {
      const v = G[k].median_ms;
      judge(
        `G ${k}`,
        `bc ${k.replace('_', ' ')}: <= 120 ms and <= 2x node -e 0`,
        `${v.toFixed(1)} ms vs ${G.node_e0.median_ms.toFixed(1)} ms (${ratio(v, G.node_e0.median_ms)}x)`,
        v <= 120 && v <= 2 * G.node_e0.median_ms,
      );
    }
  }
  return out;
}

export function targetLines(list) {
  return list
    .map(
      (x) =>
        `${x.pass === null ? 'n/a ' : x.pass ? 'PASS' : 'MISS'}  ${x.id.padEnd(7)} ${x.text}: ${x.value}${x.note ? `  [${x.note}]` : ''}`,
    )
    .join('\n');
}
