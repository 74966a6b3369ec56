/**
 * The only file that lists the provider adapters and inbound codecs. Everything else asks the
 * registry by channel type or inbound protocol, so adding a provider touches one folder and
 * one line here.
 */
import type { ChannelType } from '../../shared/control-api.js';
import type { InboundCodec } from '../inbound/types.js';
import type { InboundProtocol, ProviderAdapter } from './types.js';
import { openaiAdapter } from './openai/index.js';
import { anthropicAdapter } from './anthropic/index.js';
import { geminiAdapter } from './gemini/index.js';
import { azureAdapter } from './azure/index.js';
import { bedrockAdapter } from './bedrock/index.js';
import { anthropicCodec } from '../inbound/anthropic/index.js';
import { geminiCodec } from '../inbound/gemini/index.js';

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

const CODECS: Record<Exclude<InboundProtocol, 'openai'>, InboundCodec> = {
  anthropic: anthropicCodec,
  gemini: geminiCodec,
};

export function getCodec(protocol: Exclude<InboundProtocol, 'openai'>): InboundCodec {
  return CODECS[protocol];
}
