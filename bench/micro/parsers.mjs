// Our hand-written parsers against the maintained alternatives (issue 15): the SSE decoder against
// eventsource-parser behind the same interface, and the CIDR match against net.BlockList.
// Interleaved rounds, so load on the machine hits both alike. Run after `npm run build`:
//   node bench/micro/parsers.mjs
import net from 'node:net';
import { createParser } from 'eventsource-parser';
import { SseDecoder } from '../../dist/daemon/streams/sse.js';
import { cidrContains, parseCidr } from '../../dist/daemon/gateway/intake/cidr.js';

/** eventsource-parser behind the SseDecoder interface, as the relay would use it. */
class ParserDecoder {
  text = new TextDecoder('utf-8');
  out = [];
  parser = createParser({
    onEvent: (e) => this.out.push({ kind: 'sse', event: e.event || undefined, data: e.data }),
  });
  push(chunk) {
    this.parser.feed(this.text.decode(chunk, { stream: true }));
    const out = this.out;
    this.out = [];
    return out;
  }
  end() {
    this.parser.feed(`${this.text.decode()}\n\n`);
    const out = this.out;
    this.out = [];
    return out;
  }
}

const openai = [];
for (let i = 0; i < 400; i++)
  openai.push(
    Buffer.from(
      `data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" token${i} ü"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
    ),
  );
openai.push(Buffer.from('data: [DONE]\n\n'));
const anthropic = [];
for (let i = 0; i < 400; i++)
  anthropic.push(
    Buffer.from(
      `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" tok${i}"}}\n\n`,
    ),
  );

function decodeAll(Decoder, frames) {
  let n = 0;
  for (let s = 0; s < 2000; s++) {
    const d = new Decoder();
    for (const f of frames) n += d.push(f).length;
    n += d.end().length;
  }
  return n;
}

function timed(fn) {
  const t = process.hrtime.bigint();
  const result = fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, result };
}

for (const [name, frames] of [
  ['openai', openai],
  ['anthropic', anthropic],
]) {
  for (let r = 0; r < 3; r++) {
    const ours = timed(() => decodeAll(SseDecoder, frames));
    const theirs = timed(() => decodeAll(ParserDecoder, frames));
    if (ours.result !== theirs.result)
      throw new Error(`event counts differ: ${ours.result} vs ${theirs.result}`);
    console.log(
      `sse ${name} round ${r}: ours ${ours.ms.toFixed(0)} ms, eventsource-parser ${theirs.ms.toFixed(0)} ms: ${(theirs.ms / ours.ms).toFixed(2)}x`,
    );
  }
}

const rules = ['10.0.0.0/8', '2001:db8::/32', '127.0.0.1'];
const parsed = rules.map(parseCidr);
const list = new net.BlockList();
list.addSubnet('10.0.0.0', 8, 'ipv4');
list.addSubnet('2001:db8::', 32, 'ipv6');
list.addAddress('127.0.0.1');
const ips = Array.from({ length: 250 }, (_, i) => `10.1.2.${i}`);
const N = 200_000;
for (let r = 0; r < 3; r++) {
  const ours = timed(() => {
    let n = 0;
    for (let i = 0; i < N; i++) if (parsed.some((c) => cidrContains(c, ips[i % 250]))) n++;
    return n;
  });
  const theirs = timed(() => {
    let n = 0;
    for (let i = 0; i < N; i++) if (list.check(ips[i % 250])) n++;
    return n;
  });
  console.log(
    `cidr round ${r}: ours ${((ours.ms * 1e6) / N).toFixed(0)} ns/check, net.BlockList ${((theirs.ms * 1e6) / N).toFixed(0)} ns/check: ${(theirs.ms / ours.ms).toFixed(2)}x`,
  );
}
