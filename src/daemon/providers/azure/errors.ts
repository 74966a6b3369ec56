/**
 * Azure OpenAI failures -> the relay's decision: OpenAI's classification plus Azure's own codes
 * (PROTOCOLS.md 2). A content-filter 400 is the request's fault and goes back to the client, with
 * the log naming the filter. A 404 DeploymentNotFound means this channel is misconfigured, not
 * that the request is wrong, so another channel is tried. Azure's 429 carries `code: "429"` and
 * `retry-after-ms`, and 401 means our key is bad.
 */
import { classifyOpenAIError } from '../openai/errors.js';
import { retryAfterMs } from '../retry-after.js';
import type { UpstreamFailure } from '../types.js';

type Headers = Record<string, string | string[] | undefined>;

function errorCode(body: string): { code: string | undefined; inner: string | undefined } {
  try {
    const v: unknown = JSON.parse(body);
    const err = typeof v === 'object' && v !== null ? (v as { error?: unknown }).error : undefined;
    if (typeof err !== 'object' || err === null) return { code: undefined, inner: undefined };
    const e = err as { code?: unknown; innererror?: { code?: unknown } | null };
    const code = typeof e.code === 'string' || typeof e.code === 'number' ? String(e.code) : undefined;
    const inner = typeof e.innererror?.code === 'string' ? e.innererror.code : undefined;
    return { code, inner };
  } catch {
    return { code: undefined, inner: undefined };
  }
}

export function classifyAzureError(status: number, headers: Headers, body: string): UpstreamFailure {
  const base = classifyOpenAIError(status, headers, body);
  const { code, inner } = errorCode(body);
  if (status === 400 && (code === 'content_filter' || inner === 'ResponsibleAIPolicyViolation')) {
    return { ...base, action: 'reject', message: `azure content_filter: ${base.message}`, body };
  }
  if (status === 404 && code === 'DeploymentNotFound') {
    const { body: _omit, ...rest } = base;
    return {
      ...rest,
      action: 'retry',
      message: `azure DeploymentNotFound (check the channel's --map): ${base.message}`,
    };
  }
  if (status === 401) return { status, action: 'disable', message: base.message };
  if (status === 429) {
    const failure: UpstreamFailure = { status, action: 'retry', message: base.message };
    const wait = retryAfterMs(headers);
    if (wait !== undefined) failure.retryAfterMs = wait;
    return failure;
  }
  return base;
}
