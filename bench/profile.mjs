// CPU profile of the gateway under benchmark load, and a top-N of self time from any .cpuprofile.
//   node bench/profile.mjs [--seconds 10] [--connections 1,64] [--top 30]: profile the daemon
//       (--cpu-prof) under scenario A load (c=1) then B load (c=64), 0 ms upstream; summarise it
//   node bench/profile.mjs --streams 256 [--seconds 10]: the same under N concurrent streams (D)
//   node bench/profile.mjs --summarise FILE.cpuprofile [--top 30] [--callers NAME]
//       (--callers: where the self time of functions called NAME comes from, --depth 4 frames up)
// Self time is grouped by function and location, then by area (our dist/ files, each package in
// node_modules, Node internals), as a share of busy (non-idle) samples.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { installCleanup, pinSelf, stop, stopAll, tempDir } from './lib/procs.mjs';
import { LOAD_CORE, ROOT, startTopology } from './lib/topology.mjs';
import { ensureWrk, wrk } from './lib/wrk.mjs';
import { streams } from './lib/clients.mjs';

const { values: o } = parseArgs({
  options: {
    summarise: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    top: { type: 'string', default: '30' },
    connections: { type: 'string', default: '1,64' },
    callers: { type: 'string' },
    streams: { type: 'string' },
    depth: { type: 'string', default: '4' },
  },
});

function area(url) {
  if (url === '') return '(native/VM)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `pkg ${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const dist = url.indexOf('/dist/');
  return dist >= 0
    ? `src ${url
        .slice(dist + 6)
        .split('/')
        .slice(0, -1)
        .join('/')}`
    : url;
}

const shortUrl = (url) =>
  url
    .replace(/^file:\/\//, '')
    .replace(`${ROOT}/`, '')
    .replace(/^.*node_modules\//, '');

export function summarise(file, top) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i + 1] ?? 0));
  }
  const fns = new Map();
  const areas = new Map();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const key = `${functionName || '(anonymous)'}\t${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const a = functionName.startsWith('(') ? functionName : area(url);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  const lines = [
    `${path.basename(file)}: busy ${(busy / 1e3).toFixed(0)} ms, idle ${(idle / 1e3).toFixed(0)} ms`,
    '',
    'self time by area:',
  ];
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 15)) lines.push(`  ${pct(us)}  ${a}`);
  lines.push('', `top ${top} functions by self time:`);
  for (const [k, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) {
    const [fn, loc] = k.split('\t');
    lines.push(`  ${pct(us)}  ${(us / 1e3).toFixed(0).padStart(6)} ms  ${fn}  ${loc}`);
  }
  return lines.join('\n');
}

async function profileUnderLoad() {
  installCleanup();
  pinSelf(LOAD_CORE);
  ensureWrk((m) => process.stderr.write(`${m}\n`));
  const workDir = tempDir(path.join(os.tmpdir(), 'bc-bench-prof-'));
  const profDir = path.join(workDir, 'prof');
  fs.mkdirSync(profDir);
  try {
    const t = await startTopology({ workDir, cpuProfDir: profDir, gatewayOnly: true });
    const ep = t.endpoint('gateway', 'd0');
    const seconds = Number(o.seconds);
    if (o.streams !== undefined) {
      const r = await streams(workDir, ep, { streams: Number(o.streams), seconds, name: 'prof-streams' });
      process.stderr.write(`${o.streams} streams: ${JSON.stringify(r)}\n`);
    }
    for (const c of o.streams === undefined ? o.connections.split(',').map(Number) : []) {
      const r = await wrk(workDir, `prof-${c}`, ep, { connections: c, seconds });
      process.stderr.write(
        `c=${c}: ${Math.round(r.rps)} req/s, p50 ${r.p50_us} µs, p99 ${r.p99_us} µs, errors ${r.errors}\n`,
      );
    }
    await stop(t.procs.gateway, 35_000);
    const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`the daemon wrote no profile in ${profDir}`);
    const kept = path.join(os.tmpdir(), `bc-gateway-${Date.now()}.cpuprofile`);
    fs.copyFileSync(path.join(profDir, file), kept);
    process.stdout.write(
      `${summarise(kept, Number(o.top))}\n\nprofile kept at ${kept} (open it in Chrome DevTools)\n`,
    );
  } finally {
    await stopAll();
  }
}

/** Self time of every function named `name`, grouped by its chain of callers (--depth frames up). */
export function callers(file, name, top) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const frame = (n) =>
    `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const chains = new Map();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]);
    if (node.callFrame.functionName !== name) continue;
    const us = prof.timeDeltas[i + 1] ?? 0;
    total += us;
    const chain = [];
    for (
      let id = parent.get(node.id);
      id !== undefined && chain.length < Number(o.depth);
      id = parent.get(id)
    )
      chain.push(frame(byId.get(id)));
    const key = chain.join('\n      <- ');
    chains.set(key, (chains.get(key) ?? 0) + us);
  }
  const lines = [`${name}: ${(total / 1e3).toFixed(0)} ms self time, by caller chain:`];
  for (const [k, us] of [...chains].sort((x, y) => y[1] - x[1]).slice(0, top)) {
    lines.push(`  ${((100 * us) / total).toFixed(1).padStart(5)} %  <- ${k}`);
  }
  return lines.join('\n');
}

if (o.summarise && o.callers) process.stdout.write(`${callers(o.summarise, o.callers, Number(o.top))}\n`);
else if (o.summarise) process.stdout.write(`${summarise(o.summarise, Number(o.top))}\n`);
else
  profileUnderLoad().catch(async (e) => {
    process.stderr.write(`profile failed: ${e.stack ?? e}\n`);
    await stopAll();
    process.exitCode = 1;
  });
