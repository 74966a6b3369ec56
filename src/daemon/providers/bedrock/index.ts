/**
 * The AWS Bedrock Runtime adapter (channel type `bedrock`), speaking the Converse API. No client
 * protocol matches Converse, so there is no passthrough: every request is converted. The channel
 * secret is either `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]` (signed with SigV4, service
 * `bedrock`) or a Bedrock API key (no colon) sent as a Bearer token. The host is derived from the
 * channel's region unless the channel names a base URL (tests point that at the simulator).
 */
import type { ChannelType } from '../../../shared/control-api.js';
import type { OpenAIChatRequest } from '../openai/types.js';
import type { ConvertContext, ProviderAdapter, UpstreamRequest, UpstreamTarget } from '../types.js';
import { classifyBedrockError } from './errors.js';
import { toConverseRequest } from './request.js';
import { toChatCompletion } from './response.js';
import { signRequest } from './sigv4.js';
import type { SigV4Credentials } from './sigv4.js';
import { converseStreamConverter } from './stream.js';

export const BEDROCK_DEFAULT_REGION = 'us-east-1';
export const BEDROCK_SERVICE = 'bedrock';

export function bedrockRegion(target: UpstreamTarget): string {
  const region = target.channel.region?.trim();
  return region ? region : BEDROCK_DEFAULT_REGION;
}

/** The channel's base URL when it has one, else the regional runtime endpoint. */
export function bedrockBaseUrl(target: UpstreamTarget): string {
  const configured = target.channel.baseUrl.trim().replace(/\/+$/, '');
  return configured !== '' ? configured : `https://bedrock-runtime.${bedrockRegion(target)}.amazonaws.com`;
}

/** Splits `AKID:SECRET[:TOKEN]`; null means the secret is a Bedrock API key. */
export function parseBedrockSecret(secret: string): SigV4Credentials | null {
  const trimmed = secret.trim();
  const first = trimmed.indexOf(':');
  if (first < 0) return null;
  const accessKeyId = trimmed.slice(0, first);
  const rest = trimmed.slice(first + 1);
  const second = rest.indexOf(':');
  const secretAccessKey = second < 0 ? rest : rest.slice(0, second);
  const sessionToken = second < 0 ? '' : rest.slice(second + 1);
  return sessionToken === ''
    ? { accessKeyId, secretAccessKey }
    : { accessKeyId, secretAccessKey, sessionToken };
}

/** Builds, and signs or authorises, one Bedrock Runtime POST. */
export function bedrockPost(
  path: string,
  body: string,
  target: UpstreamTarget,
  accept: string,
): UpstreamRequest {
  const url = `${bedrockBaseUrl(target)}${path}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept };
  const creds = parseBedrockSecret(target.secret);
  if (creds === null) {
    headers.authorization = `Bearer ${target.secret.trim()}`;
  } else {
    Object.assign(
      headers,
      signRequest({ method: 'POST', url, headers, body }, creds, {
        region: bedrockRegion(target),
        service: BEDROCK_SERVICE,
      }),
    );
  }
  return { method: 'POST', url, headers, body };
}

function chatRequest(req: OpenAIChatRequest, target: UpstreamTarget, ctx: ConvertContext): UpstreamRequest {
  const body = JSON.stringify(toConverseRequest(req, target.upstreamModel, ctx));
  const stream = req.stream === true;
  const path = `/model/${encodeURIComponent(target.upstreamModel)}/${stream ? 'converse-stream' : 'converse'}`;
  return bedrockPost(path, body, target, stream ? 'application/vnd.amazon.eventstream' : 'application/json');
}

export const bedrockAdapter: ProviderAdapter = {
  types: ['bedrock'],
  defaultBaseUrl: (_type: ChannelType) => null,
  passthrough: null,
  streamFraming: 'aws-eventstream',
  chatRequest,
  chatResponse: (body, target) => toChatCompletion(body, target.upstreamModel),
  chatStream: (target) => converseStreamConverter(target.upstreamModel),
  classifyError: classifyBedrockError,
};
