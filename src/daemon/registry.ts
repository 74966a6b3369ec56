/**
 * The only file that lists the provider adapters and inbound codecs. Everything else asks the
 * registry by channel type or inbound protocol, so adding a provider touches one folder and
 * one line here. It sits above both folders: providers and inbound codecs know only their own
 * types and each other's shapes, never the list.
 */
import type { ChannelType } from '../shared/control-api.js';
import type { InboundCodec } from './inbound/types.js';
import type { InboundProtocol, ProviderAdapter } from './providers/types.js';
import { openaiAdapter } from './providers/openai/index.js';
import { anthropicAdapter } from './providers/anthropic/index.js';
import { geminiAdapter } from './providers/gemini/index.js';
import { azureAdapter } from './providers/azure/index.js';
import { bedrockAdapter } from './providers/bedrock/index.js';
import { openaiCodec } from './inbound/openai/codec.js';
import { anthropicCodec } from './inbound/anthropic/index.js';
import { geminiCodec } from './inbound/gemini/index.js';

const ADAPTERS: readonly ProviderAdapter[] = [
  openaiAdapter,
  anthropicAdapter,
  geminiAdapter,
  azureAdapter,
  bedrockAdapter,
];

const byType = new Map<ChannelType, ProviderAdapter>();
for (const adapter of ADAPTERS) for (const t of adapter.types) byType.set(t, adapter);

export function getAdapter(type: ChannelType): ProviderAdapter {
  const adapter = byType.get(type);
  if (!adapter) throw new Error(`no adapter for channel type ${type}`);
  return adapter;
}

/** The base URL a channel of this type uses when it names none; null when one is required. */
export function defaultBaseUrl(type: ChannelType): string | null {
  return getAdapter(type).defaultBaseUrl(type);
}

const CODECS: Record<InboundProtocol, InboundCodec> = {
  openai: openaiCodec,
  anthropic: anthropicCodec,
  gemini: geminiCodec,
};

/** The codec of a client protocol (OpenAI chat's is the identity). */
export function getCodec(protocol: InboundProtocol): InboundCodec {
  return CODECS[protocol];
}
