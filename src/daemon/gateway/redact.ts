/**
 * Keeps a channel's own secrets out of what an upstream says back. Some proxies and self-hosted
 * servers echo the request headers (or URL) in their error bodies, and those carry the channel's
 * key: as sent, percent-encoded in a URL, JSON-escaped, or base64 (Basic auth, debug dumps). The
 * shape-based masking of credential-looking strings cannot know an arbitrary key, so every failure
 * read from an upstream is passed through the channel's redactor, built once per snapshot from
 * the actual values of all the channel's keys (each part of a Bedrock `ID:SECRET:TOKEN` too),
 * before it reaches the client, a log row, an auto-disable reason or the daemon log.
 */
import type { StreamEvent, UpstreamFailure } from '../providers/types.js';

export type Redactor = (text: string) => string;

export const REDACTED = '[redacted]';

/** Shorter fragments would match ordinary text; no real credential part is this short. */
const MIN_SECRET_LENGTH = 8;

function encodings(secret: string): string[] {
  const b64 = Buffer.from(secret, 'utf8').toString('base64');
  return [
    secret,
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(secret).slice(1, -1).replaceAll('/', '\\/'),
    b64,
    b64.replace(/=+$/, ''),
    Buffer.from(secret, 'utf8').toString('base64url'),
  ];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A redactor for these secrets; the identity when there are none worth matching. */
export function secretRedactor(secrets: readonly string[]): Redactor {
  const parts = new Set<string>();
  for (const s of secrets) {
    for (const piece of [s, ...s.split(':')]) {
      if (piece.length < MIN_SECRET_LENGTH) continue;
      for (const form of encodings(piece)) if (form.length >= MIN_SECRET_LENGTH) parts.add(form);
    }
  }
  if (parts.size === 0) return (text) => text;
  // longest first, so a whole key is replaced before any part of it
  const alternatives = [...parts].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(alternatives.join('|'), 'g');
  return (text) => text.replace(pattern, REDACTED);
}

/** The failure with the channel's secrets taken out of its message and passed-back body. */
export function redactFailure(redact: Redactor, f: UpstreamFailure): UpstreamFailure {
  const message = redact(f.message);
  const body = f.body === undefined ? undefined : redact(f.body);
  if (message === f.message && body === f.body) return f;
  return { ...f, message, body };
}

/**
 * Whether a relayed stream event is an upstream's error (Anthropic's `event: error`, an
 * OpenAI-family or Gemini `{"error": ...}` frame): the only frames a passthrough stream rewrites,
 * so the redactor costs nothing on the frames of an answer.
 */
export function isErrorEvent(ev: StreamEvent): boolean {
  return ev.kind === 'sse' && (ev.event === 'error' || /^\s*\{\s*"error"/.test(ev.data));
}
