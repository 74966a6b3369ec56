// Our hand-written AWS parts against AWS's own packages (issue 15): the SigV4 signer against
// @smithy/signature-v4 (with @smithy/hash-node, Node's crypto, as the SDK's Node runtime uses it),
// and the event-stream decoder against @smithy/eventstream-codec (with @smithy/util-utf8) behind
// our decoder's push/end interface. Each pair is first proven to give identical output (the script
// throws otherwise), then timed in interleaved rounds so load on the shared machine hits both alike,
// and the cost of loading each side is measured in fresh `node` processes against an empty one.
// Run after `npm run build` (it imports dist/):   node bench/micro/aws.mjs [rounds]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { signRequest } from '../../dist/daemon/providers/bedrock/sigv4.js';
import { EventStreamDecoder } from '../../dist/daemon/streams/eventstream.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = process.env.BC_FIXTURES_ROOT ?? path.resolve(ROOT, '../shared/fixtures');
const ROUNDS = Number(process.argv[2] ?? 7);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function summary(label, xs, unit, digits = 1) {
  const s = [...xs].sort((a, b) => a - b);
  return `${label}: median ${median(xs).toFixed(digits)} ${unit} (${s[0].toFixed(digits)}-${s[s.length - 1].toFixed(digits)} over ${xs.length})`;
}
/** Times `ours` and `theirs` in alternating order each round; round 0 only warms both up. */
async function interleaved(ours, theirs) {
  const a = [];
  const b = [];
  for (let r = 0; r <= ROUNDS; r++) {
    let x;
    let y;
    if (r % 2 === 0) {
      x = await ours();
      y = await theirs();
    } else {
      y = await theirs();
      x = await ours();
    }
    if (r > 0) {
      a.push(x);
      b.push(y);
    }
  }
  return [a, b];
}
function report(prefix, library, ours, theirs, unit, digits) {
  console.log(`${prefix}, ${summary('ours', ours, unit, digits)}`);
  console.log(`${prefix}, ${summary(library, theirs, unit, digits)}`);
  console.log(
    `${prefix}, ${summary(
      'library/ours',
      ours.map((o, i) => theirs[i] / o),
      'x',
      2,
    )}`,
  );
}
function assertEqual(what, a, b) {
  if (a !== b) throw new Error(`${what} differ:\n  ours:    ${a}\n  library: ${b}`);
}

// ---- SigV4 ----------------------------------------------------------------------------------

const HOST = 'bedrock-runtime.us-east-1.amazonaws.com';
// As bedrockPost builds it: the model id encoded once on the request line (signed twice encoded).
const modelPath = (model) => `/model/${encodeURIComponent(model)}/converse-stream`;
const PATH = modelPath('anthropic.claude-3-5-sonnet-20240620-v1:0');
const ARN_PATH = modelPath(
  'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0',
);
const DATE = new Date('2025-11-20T12:34:56Z');
const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const STS = { ...KEYS, sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD=' };

/** A Converse body: the recorded tool-use request, then conversation turns up to about `bytes`. */
function converseBody(bytes) {
  const req = JSON.parse(
    fs.readFileSync(path.join(FIXTURES, 'bedrock/converse-stream-tool-use.request.json')),
  );
  for (let i = 0; JSON.stringify(req).length < bytes; i++) {
    const role = i % 2 === 0 ? 'assistant' : 'user';
    req.messages.push({
      role,
      content: [{ text: `Turn ${i}: Paris is the capital; it is 14 °C there today. ` }],
    });
  }
  return JSON.stringify(req);
}

function ourSign(body, creds, signBody, path = PATH) {
  const url = `https://${HOST}${path}`;
  const headers = { 'content-type': 'application/json', accept: 'application/vnd.amazon.eventstream' };
  return signRequest({ method: 'POST', url, headers, body }, creds, {
    region: 'us-east-1',
    service: 'bedrock',
    date: DATE,
    signBody,
  });
}

const signers = new Map();
async function theirSign(body, creds, signBody, path = PATH) {
  const key = `${creds.sessionToken ?? ''}:${signBody}`;
  if (!signers.has(key))
    signers.set(
      key,
      new SignatureV4({
        credentials: creds,
        region: 'us-east-1',
        service: 'bedrock',
        sha256: Hash.bind(null, 'sha256'),
        applyChecksum: signBody,
      }),
    );
  const request = {
    method: 'POST',
    protocol: 'https:',
    hostname: HOST,
    path,
    query: {},
    headers: { host: HOST, 'content-type': 'application/json', accept: 'application/vnd.amazon.eventstream' },
    body,
  };
  return (await signers.get(key).sign(request, { signingDate: DATE })).headers;
}

const bodies = { '1 KB': converseBody(1024), '4 KB': converseBody(4096) };
for (const [size, body] of Object.entries(bodies))
  for (const path of [PATH, ARN_PATH])
    for (const creds of [KEYS, STS])
      for (const signBody of [false, true]) {
        const ours = ourSign(body, creds, signBody, path);
        const theirs = await theirSign(body, creds, signBody, path);
        const what = `Authorization (${size}, ${path}, ${creds.sessionToken ? 'token' : 'keys'}, signBody ${signBody})`;
        for (const h of ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'])
          assertEqual(`${h} of ${what}`, ours[h], theirs[h]);
      }
console.log(
  'sigv4: identical headers for 1 and 4 KB bodies, model id and inference-profile ARN, with and without session token and body hash',
);

const SIGNS = 3000;
for (const [size, body] of Object.entries(bodies)) {
  const [ours, theirs] = await interleaved(
    () => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < SIGNS; i++) ourSign(body, STS, false);
      return Number(process.hrtime.bigint() - t) / 1e3 / SIGNS;
    },
    async () => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < SIGNS; i++) await theirSign(body, STS, false);
      return Number(process.hrtime.bigint() - t) / 1e3 / SIGNS;
    },
  );
  report(`sigv4 ${size} body`, '@smithy/signature-v4', ours, theirs, 'µs/signature', 1);
}

// ---- Event stream ----------------------------------------------------------------------------

/** The library codec behind our decoder's interface: a chunk buffer cut at each prelude's length. */
class SmithyDecoder {
  codec = new EventStreamCodec(toUtf8, fromUtf8);
  buf = Buffer.alloc(0);
  push(chunk) {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out = [];
    while (this.buf.length >= 4) {
      const total = this.buf.readUInt32BE(0);
      if (this.buf.length < total) break;
      const { headers, body } = this.codec.decode(this.buf.subarray(0, total));
      this.buf = this.buf.subarray(total);
      out.push({ kind: 'eventstream', headers: renderHeaders(headers), payload: Buffer.from(body) });
    }
    return out;
  }
  end() {
    if (this.buf.length > 0) throw new Error('event-stream ended inside a message');
  }
}

/** Header values as the strings our converters read (what EventStreamDecoder returns). */
function renderHeaders(headers) {
  const out = {};
  for (const [name, { type, value }] of Object.entries(headers)) {
    if (type === 'binary') out[name] = Buffer.from(value).toString('base64');
    else if (type === 'timestamp') out[name] = value.toISOString();
    else out[name] = String(value);
  }
  return out;
}

function chunked(body, how) {
  if (how === 'whole body') return [body];
  const out = [];
  if (how === 'one message a chunk') {
    for (let at = 0; at < body.length; at += body.readUInt32BE(at))
      out.push(body.subarray(at, at + body.readUInt32BE(at)));
    return out;
  }
  for (let at = 0; at < body.length; at += 100) out.push(body.subarray(at, at + 100));
  return out;
}

function decodeAll(Decoder, chunks) {
  const d = new Decoder();
  const out = [];
  for (const c of chunks) for (const m of d.push(c)) out.push(m);
  d.end();
  return out;
}
const show = (messages) => JSON.stringify(messages.map((m) => [m.headers, m.payload.toString('base64')]));

const RECORDED = ['converse-stream-tool-use', 'converse-stream-reasoning'].map((name) => ({
  bin: fs.readFileSync(path.join(FIXTURES, `bedrock/${name}.eventstream.bin`)),
  decoded: fs
    .readFileSync(path.join(FIXTURES, `bedrock/${name}.eventstream.decoded.jsonl`), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l)),
}));
const CHUNKINGS = ['one message a chunk', '100-byte chunks', 'whole body'];
let frames = 0;
for (const { bin, decoded } of RECORDED) {
  for (const how of CHUNKINGS) {
    const ours = decodeAll(EventStreamDecoder, chunked(bin, how));
    assertEqual(`decoded messages (${how})`, show(ours), show(decodeAll(SmithyDecoder, chunked(bin, how))));
    const asRecorded = ours.map((m) => ({ headers: m.headers, payload: JSON.parse(m.payload.toString()) }));
    assertEqual('decoded against the recording', JSON.stringify(asRecorded), JSON.stringify(decoded));
  }
  frames += decoded.length;
}
console.log(`eventstream: identical messages from both recorded bodies (${frames} frames) in every chunking`);

const PASSES = 400;
for (const how of CHUNKINGS) {
  const inputs = RECORDED.map(({ bin }) => chunked(bin, how));
  const time = (Decoder) => {
    const t = process.hrtime.bigint();
    for (let p = 0; p < PASSES; p++) for (const chunks of inputs) decodeAll(Decoder, chunks);
    return Number(process.hrtime.bigint() - t) / 1e3 / (PASSES * frames);
  };
  const [ours, theirs] = await interleaved(
    () => time(EventStreamDecoder),
    () => time(SmithyDecoder),
  );
  report(`eventstream ${how}`, '@smithy/eventstream-codec', ours, theirs, 'µs/frame', 2);
}

// ---- Load cost -------------------------------------------------------------------------------

const dist = (rel) => pathToFileURL(path.join(ROOT, 'dist', rel)).href;
const PAIRS = [
  ['sigv4', [dist('daemon/providers/bedrock/sigv4.js')], ['@smithy/signature-v4', '@smithy/hash-node']],
  [
    'eventstream',
    [dist('daemon/streams/eventstream.js')],
    ['@smithy/eventstream-codec', '@smithy/util-utf8'],
  ],
];
// node:crypto alone: both signers load it, and the daemon has it loaded anyway (gateway, Gemini).
const LOADS = { empty: [], 'node:crypto': ['node:crypto'] };
for (const [name, ours, theirs] of PAIRS) {
  LOADS[`ours ${name}`] = ours;
  LOADS[theirs.join(' + ')] = theirs;
}

/** A fresh process: import the modules, collect, report load time, RSS and live heap. */
function load(specifiers) {
  const code = `
    const t = process.hrtime.bigint();
    for (const s of ${JSON.stringify(specifiers)}) await import(s);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    globalThis.gc(); globalThis.gc();
    const m = process.memoryUsage();
    console.log(JSON.stringify({ ms, rss: m.rss, heap: m.heapUsed }));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], {
    cwd: ROOT,
  });
  return JSON.parse(out.toString());
}

const samples = Object.fromEntries(Object.keys(LOADS).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++)
  for (const [name, specifiers] of Object.entries(LOADS)) samples[name].push(load(specifiers));
const at = (name, field) => median(samples[name].map((s) => s[field]));
for (const [name, xs] of Object.entries(samples)) {
  if (name === 'empty') continue;
  const rss = xs.map((s) => (s.rss - at('empty', 'rss')) / 1e6);
  const heap = xs.map((s) => (s.heap - at('empty', 'heap')) / 1e6);
  console.log(
    `load ${name}: ${summary(
      'import',
      xs.map((s) => s.ms),
      'ms',
    )}; ${summary('RSS over an empty node', rss, 'MB', 2)}; ${summary('live heap', heap, 'MB', 2)}`,
  );
}
for (const [name, , theirs] of PAIRS) {
  const d = (field, scale) =>
    ((at(theirs.join(' + '), field) - at(`ours ${name}`, field)) / scale).toFixed(2);
  console.log(
    `load ${name}, library minus ours (medians): import ${d('ms', 1)} ms, RSS ${d('rss', 1e6)} MB, live heap ${d('heap', 1e6)} MB`,
  );
}
