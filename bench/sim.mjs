// Lean upstream simulator for the benchmark: node:http only, answers OpenAI Chat Completions
// (POST .../chat/completions) and Anthropic Messages (POST .../messages), as JSON or SSE.
// Non-stream answers wait --delay-ms; streams wait --delay-ms, send the first delta at once and
// then one delta every --pace-ms until --deltas are out (usage last when asked for). Answers are
// built from small templates so the simulator stays cheap: the benchmark must not be sim-bound.
// Usage: node bench/sim.mjs --port 0 --delay-ms 20 --deltas 64 --pace-ms 20
// Prints one JSON line {"ready":true,"port":N} on stdout once listening.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'delay-ms': { type: 'string', default: '0' },
    deltas: { type: 'string', default: '64' },
    'pace-ms': { type: 'string', default: '20' },
  },
});
const DELAY = Number(values['delay-ms']);
const DELTAS = Number(values.deltas);
const PACE = Number(values['pace-ms']);
const TEXT = 'Hello from the benchmark simulator, a fixed short answer.';
const OUT_TOKENS = 12;

/** Rough prompt token count: a quarter of the body's bytes, as tokenizers average on English. */
const promptTokens = (bytes) => Math.max(1, Math.round(bytes / 4));

function openaiJson(model, inTok) {
  return JSON.stringify({
    id: 'chatcmpl-sim',
    object: 'chat.completion',
    created: 1767225600,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: TEXT, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: inTok, completion_tokens: OUT_TOKENS, total_tokens: inTok + OUT_TOKENS },
  });
}

function anthropicJson(model, inTok) {
  return JSON.stringify({
    id: 'msg_sim',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: TEXT }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: inTok,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: OUT_TOKENS,
    },
  });
}

/** The frames of one stream: [first, ...deltas, tail]; `first` goes out with delta 0. */
function openaiFrames(model, inTok, withUsage) {
  const head = `data: {"id":"chatcmpl-sim","object":"chat.completion.chunk","created":1767225600,"model":${JSON.stringify(model)},"choices":[`;
  const u = withUsage ? ',"usage":null' : '';
  const chunk = (choice) => `${head}${choice}]${u}}\n\n`;
  const first = chunk('{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}');
  const deltas = [];
  for (let i = 0; i < DELTAS; i++)
    deltas.push(chunk(`{"index":0,"delta":{"content":"w${i} "},"finish_reason":null}`));
  let tail = chunk('{"index":0,"delta":{},"finish_reason":"stop"}');
  if (withUsage) {
    const usage = { prompt_tokens: inTok, completion_tokens: DELTAS, total_tokens: inTok + DELTAS };
    tail += `${head}],"usage":${JSON.stringify(usage)}}\n\n`;
  }
  return { first, deltas, tail: `${tail}data: [DONE]\n\n` };
}

function anthropicFrames(model, inTok) {
  const ev = (obj) => `event: ${obj.type}\ndata: ${JSON.stringify(obj)}\n\n`;
  const message = {
    id: 'msg_sim',
    type: 'message',
    role: 'assistant',
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: {
      input_tokens: inTok,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 1,
    },
  };
  const first =
    ev({ type: 'message_start', message }) +
    ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  const deltas = [];
  for (let i = 0; i < DELTAS; i++)
    deltas.push(ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `w${i} ` } }));
  const tail =
    ev({ type: 'content_block_stop', index: 0 }) +
    ev({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: DELTAS },
    }) +
    ev({ type: 'message_stop' });
  return { first, deltas, tail };
}

/** Streams are cached per (shape, model, prompt size, usage) so steady load builds no strings. */
const frameCache = new Map();
function framesFor(anthropic, model, inTok, withUsage) {
  const k = `${anthropic}|${model}|${inTok}|${withUsage}`;
  let f = frameCache.get(k);
  if (f === undefined) {
    const text = anthropic ? anthropicFrames(model, inTok) : openaiFrames(model, inTok, withUsage);
    // pre-encoded: a write per delta per stream is the simulator's main cost at 512 streams
    f = {
      first: Buffer.from(text.first + (text.deltas[0] ?? '')),
      deltas: text.deltas.map((d) => Buffer.from(d)),
      tail: Buffer.from(text.tail),
    };
    if (frameCache.size > 1000) frameCache.clear();
    frameCache.set(k, f);
  }
  return f;
}

async function stream(res, frames) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(frames.first);
  for (let i = 1; i < frames.deltas.length; i++) {
    await delay(PACE);
    if (res.destroyed) return;
    res.write(frames.deltas[i]);
  }
  res.end(frames.tail);
}

async function answer(req, res, raw) {
  const anthropic = req.url.endsWith('/messages');
  if (!anthropic && !req.url.endsWith('/chat/completions')) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
    return;
  }
  const body = JSON.parse(raw);
  const model = String(body.model);
  const inTok = promptTokens(raw.length);
  if (DELAY > 0) await delay(DELAY);
  if (body.stream === true) {
    const withUsage = body.stream_options?.include_usage === true;
    await stream(res, framesFor(anthropic, model, inTok, withUsage));
    return;
  }
  const json = anthropic ? anthropicJson(model, inTok) : openaiJson(model, inTok);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    answer(req, res, Buffer.concat(chunks).toString()).catch((e) => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(e?.message ?? e) } }));
    });
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.maxRequestsPerSocket = 0;
server.listen(Number(values.port), values.host, () => {
  process.stdout.write(`${JSON.stringify({ ready: true, port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
