// Preload for the peer (@portkey-ai/gateway) under Node, as BENCH.md prescribes: its streaming
// path sets headers on fetch responses, which Node's fetch returns immutable, so every response
// is rewrapped with mutable headers. Run: node --import ./bench/portkey-preload.mjs <start-server.js>
const f = globalThis.fetch;
globalThis.fetch = async (...a) => {
  const r = await f(...a);
  return new Response(r.body, {
    status: r.status,
    statusText: r.statusText,
    headers: new Headers(r.headers),
  });
};
