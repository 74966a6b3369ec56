/**
 * Azure OpenAI URLs. The channel's base URL is the resource endpoint
 * (`https://RESOURCE.openai.azure.com`), the deployment is the channel's upstream model name
 * (`--map alias=deployment`), and every call carries `api-version`. Deployment-scoped operations
 * (chat, completions, embeddings, images, audio) live under `/openai/deployments/{d}/`, as
 * openai-node's AzureOpenAI builds them; anything else hangs directly from `/openai`.
 */
import type { UpstreamTarget } from '../types.js';

export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

const DEPLOYMENT_PATHS = new Set([
  '/chat/completions',
  '/completions',
  '/embeddings',
  '/images/generations',
  '/images/edits',
  '/audio/speech',
  '/audio/transcriptions',
  '/audio/translations',
]);

function resourceRoot(target: UpstreamTarget): string {
  // Accept an endpoint given with `/openai` already on it, as some users copy it from the portal.
  return target.channel.baseUrl.replace(/\/+$/, '').replace(/\/openai$/, '');
}

function apiVersion(target: UpstreamTarget): string {
  return target.channel.apiVersion ?? AZURE_DEFAULT_API_VERSION;
}

/** `/chat/completions` -> `…/openai/deployments/{deployment}/chat/completions?api-version=…` */
export function azureUrl(target: UpstreamTarget, operation: string): string {
  const deployment = encodeURIComponent(target.upstreamModel);
  const scoped = DEPLOYMENT_PATHS.has(operation) ? `/deployments/${deployment}${operation}` : operation;
  return `${resourceRoot(target)}/openai${scoped}?api-version=${encodeURIComponent(apiVersion(target))}`;
}

/** A client's OpenAI path (`/v1/chat/completions`, query dropped) -> the Azure URL. */
export function azurePassthroughUrl(path: string, target: UpstreamTarget): string {
  const q = path.indexOf('?');
  const pathname = q === -1 ? path : path.slice(0, q);
  const operation = pathname.startsWith('/v1/') ? pathname.slice(3) : pathname;
  return azureUrl(target, operation);
}

export function azureHeaders(target: UpstreamTarget, contentType?: string): Record<string, string> {
  const headers: Record<string, string> = { 'api-key': target.secret };
  if (contentType !== undefined && contentType !== '') headers['content-type'] = contentType;
  return headers;
}
