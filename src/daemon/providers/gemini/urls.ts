/**
 * Gemini URLs and auth headers. The channel's base URL is what the SDK takes
 * (`https://generativelanguage.googleapis.com`); one that already ends in an API version is used
 * as it is. The key always goes in `x-goog-api-key`, never in the query, and a client's own
 * `?key=` (its gateway key) is removed before a passthrough path goes upstream.
 */
import type { UpstreamTarget } from '../types.js';

const VERSIONED = /\/v1(beta\d*|alpha)?$/;
const PATH_VERSION = /^\/v1(beta\d*|alpha)?(?=\/)/;

function base(target: UpstreamTarget): string {
  return target.channel.baseUrl.replace(/\/+$/, '');
}

/** `…/v1beta`: the root every method path hangs from. */
export function apiRoot(target: UpstreamTarget): string {
  const b = base(target);
  return VERSIONED.test(b) ? b : `${b}/v1beta`;
}

export function modelUrl(target: UpstreamTarget, method: string): string {
  const model = target.upstreamModel.replace(/^models\//, '');
  return `${apiRoot(target)}/models/${encodeURIComponent(model)}:${method}`;
}

export function geminiHeaders(
  target: UpstreamTarget,
  contentType = 'application/json',
): Record<string, string> {
  return {
    'content-type': contentType === '' ? 'application/json' : contentType,
    'x-goog-api-key': target.secret,
  };
}

/** A client path (`/v1beta/models/m:streamGenerateContent?alt=sse&key=...`) -> the upstream URL. */
export function passthroughUrl(path: string, target: UpstreamTarget): string {
  const q = path.indexOf('?');
  let pathname = q === -1 ? path : path.slice(0, q);
  const params = new URLSearchParams(q === -1 ? '' : path.slice(q + 1));
  params.delete('key');
  const b = base(target);
  if (VERSIONED.test(b)) pathname = pathname.replace(PATH_VERSION, '');
  else if (!PATH_VERSION.test(pathname)) pathname = `/v1beta${pathname}`;
  const query = params.toString();
  return `${b}${pathname}${query === '' ? '' : `?${query}`}`;
}
