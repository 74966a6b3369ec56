// The floor: the least a Node proxy can do. node:http server, one undici Pool per upstream, the
// request buffered and JSON.parse'd for its model (which picks the upstream), the answer's bytes
// forwarded as they come and its usage parsed. Nothing else: no auth, limits, logging or retry.
// Usage: node bench/floor.mjs --port 0 MODEL=http://127.0.0.1:PORT [...]; prints {"ready":true,"port":N}.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values, positionals } = parseArgs({
  options: { port: { type: 'string', default: '0' } },
  allowPositionals: true,
});
const pools = new Map(
  positionals.map((p) => [p.slice(0, p.indexOf('=')), new Pool(p.slice(p.indexOf('=') + 1))]),
);
let usageSeen = 0; // read so the parse cannot be optimised away

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    try {
      const pool = pools.get(JSON.parse(body.toString()).model);
      if (pool === undefined) return void res.writeHead(404).end();
      const up = await pool.request({
        method: 'POST',
        path: req.url,
        headers: { 'content-type': 'application/json' },
        body,
      });
      res.writeHead(up.statusCode, { 'content-type': up.headers['content-type'] });
      const seen = [];
      for await (const chunk of up.body) {
        res.write(chunk);
        seen.push(chunk);
        if (seen.length > 2) seen.shift();
      }
      res.end();
      const text = Buffer.concat(seen).toString();
      const at = text.lastIndexOf('"usage":{');
      if (at >= 0) usageSeen += JSON.parse(text.slice(at + 8, text.indexOf('}', at) + 1)).prompt_tokens ?? 1;
    } catch {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), '127.0.0.1', () =>
  process.stdout.write(`${JSON.stringify({ ready: true, port: server.address().port })}\n`),
);
process.on('SIGTERM', () => process.exit(usageSeen >= 0 ? 0 : 1));
