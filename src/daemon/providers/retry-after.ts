/**
 * How long an upstream asked us to wait, from its response headers. Both official SDKs read
 * `retry-after-ms` first (OpenAI and Azure send it), then `retry-after` as seconds or an HTTP
 * date; the relay uses the answer to cool a channel down for exactly that long.
 */

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    // Node lowercases incoming names, but a caller may pass a hand-built record.
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  const first = Array.isArray(value) ? value[0] : value;
  const trimmed = first?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function nonNegativeNumber(text: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined) {
    const n = nonNegativeNumber(ms);
    if (n !== undefined) return Math.ceil(n);
  }
  const ra = header(headers, 'retry-after');
  if (ra === undefined) return undefined;
  const seconds = nonNegativeNumber(ra);
  if (seconds !== undefined) return Math.ceil(seconds * 1000);
  // An HTTP date names a weekday and month; without letters Date.parse reads e.g. '-5' as a year.
  if (!/[a-z]/i.test(ra)) return undefined;
  const at = Date.parse(ra);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
