// Runs the Node load clients (stream-client.mjs, open-loop.mjs) as children pinned to the load
// core, with an endpoint's URL, headers and body, and returns their one-line JSON summary.
import fs from 'node:fs';
import path from 'node:path';
import { runToEnd } from './procs.mjs';
import { LOAD_CORE, ROOT } from './topology.mjs';

let seq = 0;
function bodyFile(dir, ep, stream) {
  const file = path.join(dir, `body-${++seq}.json`);
  fs.writeFileSync(file, ep.body(stream));
  return file;
}

async function runClient(script, args, name) {
  const r = await runToEnd(name, process.execPath, [path.join(ROOT, 'bench', script), ...args], {
    core: LOAD_CORE,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{'))
    throw new Error(`${name} printed no result (exit ${r.status}): ${r.stdout.slice(-300)}`);
  return JSON.parse(line);
}

/** N concurrent streams kept open for `seconds` against endpoint `ep`. */
export function streams(dir, ep, { streams: n, seconds, name = 'streams' }) {
  return runClient(
    'stream-client.mjs',
    [
      '--url',
      ep.url,
      '--headers',
      JSON.stringify(ep.headers),
      '--body-file',
      bodyFile(dir, ep, true),
      '--shape',
      ep.shape,
      '--streams',
      String(n),
      '--seconds',
      String(seconds),
      '--expect',
      '64',
      '--pace-ms',
      '20',
    ],
    name,
  );
}

/** Open-loop load at `rate` req/s for `seconds`; `streamShare` of the requests stream. */
export function openLoop(dir, ep, { rate, seconds, connections = 512, streamShare = 0, name = 'open-loop' }) {
  const args = [
    '--url',
    ep.url,
    '--headers',
    JSON.stringify(ep.headers),
    '--body-file',
    bodyFile(dir, ep, false),
    '--rate',
    String(rate),
    '--seconds',
    String(seconds),
    '--connections',
    String(connections),
  ];
  if (streamShare > 0)
    args.push('--stream-body-file', bodyFile(dir, ep, true), '--stream-share', String(streamShare));
  return runClient('open-loop.mjs', args, name);
}
