// Issue 15's targets, judged on a results object like the rest of report.mjs: every figure is a
// ratio to the floor taken in the same run. A4 and B3 are medians of ratios taken within one
// round (scenario A's rounds, scenario B's c=64 rounds at 0 and 20 ms); D3-D6 compare each stream
// level's absolute figures (TTFT from the request's start, not TTFT added over direct, as the
// issue quotes them) with the floor's at the same level; E5 compares peak RSS at 1,000 streams.
// Each judge gets `judge(id, text, value, pass, note)`; pass is null when the run lacks a figure.
const MB_PER_MIB = 1.048576;
const STREAM_LEVELS = [128, 256, 512];
const x2 = (v) => (typeof v === 'number' ? `${v.toFixed(2)}x` : '-');
const div = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);
const list = (r) => r.rounds.map((v) => (v === null ? '-' : v.toFixed(2))).join(', ');

export function judgeA(A, judge) {
  const r = A?.added_p50_ratio;
  if (!r) return;
  judge(
    'A4',
    'added p50 median of per-round ratios <= 1.2x floor',
    `${x2(r.median)} (rounds ${list(r)})`,
    r.median === null ? null : r.median <= 1.2,
  );
}

export function judgeB(B, judge) {
  const r = B?.rounds_c64;
  if (!r) return;
  const parts = Object.entries(r).map(
    ([ms, x]) => `${ms} ${x2(x.rps_ratio.median)} (rounds ${list(x.rps_ratio)})`,
  );
  const medians = Object.values(r).map((x) => x.rps_ratio.median);
  const failed = Object.entries(r)
    .filter(([, x]) => !x.ok)
    .map(([ms]) => ms);
  judge(
    'B3',
    'c=64 RPS median of per-round ratios >= 0.9x floor',
    parts.join('; '),
    medians.includes(null) ? null : medians.every((m) => m >= 0.9),
    failed.length > 0 ? `requests failed at ${failed.join(', ')}` : '',
  );
}

export function judgeD(D, judge) {
  for (const n of STREAM_LEVELS) {
    const lv = D?.levels?.[n];
    if (!lv?.floor || !lv.gateway) continue;
    const g = lv.gateway;
    const f = lv.floor;
    const note = lv.direct?.sustained === false ? 'direct itself not sustained: load side busy' : '';
    const cmp = (id, text, key, max) => {
      const q = div(g[key], f[key]);
      judge(
        `${id}@${n}`,
        `${text} <= ${max}x floor (${n} streams)`,
        `${g[key] ?? '-'} vs ${f[key] ?? '-'} µs (${x2(q)})`,
        q === null ? null : q <= max,
        note,
      );
    };
    cmp('D3', 'TTFT p50', 'ttft_p50_us', 2);
    cmp('D4', 'TTFT p99', 'ttft_p99_us', 1.5);
    cmp('D5', 'gap p99', 'gap_p99_us', 1.2);
    judge(
      `D6@${n}`,
      `completed streams >= floor's (${n} streams)`,
      `${g.complete}/${g.started} vs ${f.complete}/${f.started}`,
      g.complete >= f.complete,
      note,
    );
  }
}

export function judgeE(E, judge) {
  const g = E?.streams_1000?.gateway?.peak_mib;
  const f = E?.streams_1000?.floor?.peak_mib;
  if (g === undefined) return;
  const q = div(g, f);
  judge(
    'E5',
    'RSS at 1,000 streams <= 1.2x floor',
    f === undefined
      ? `${(g * MB_PER_MIB).toFixed(1)} MB, floor not measured`
      : `${(g * MB_PER_MIB).toFixed(1)} vs ${(f * MB_PER_MIB).toFixed(1)} MB (${x2(q)})`,
    q === null ? null : q <= 1.2,
  );
}
