/**
 * The only file that lists the provider adapters and inbound codecs. Everything else asks the
 * registry by channel type or inbound protocol, so adding a provider touches one folder and
 * one line here. It sits above both folders: providers and inbound codecs know only their own
 * types and each other's shapes, never the list.
 *
 * The OpenAI-family and Anthropic adapters are loaded with the daemon: the gateway's own
 * request handling (output limits, usage frames) imports parts of both anyway. The others are
 * loaded when a channel of their type is first configured: `loadAdapters` runs before every
 * snapshot is built (snapshot.ts), so a snapshot never holds a channel whose adapter is missing,
 * and `getAdapter` stays synchronous on the request path. A daemon with no Gemini, Azure or
 * Bedrock channel never holds their code (about 1 MB of resident memory). The inbound codecs stay
 * eager: a client may speak any protocol at any time, error answers are written synchronously in
 * the client's protocol, and the three cost a few hundred KB together.
 */
import type { ChannelType } from '../shared/control-api.js';
import type { InboundCodec } from './inbound/types.js';
import type { InboundProtocol, ProviderAdapter } from './providers/types.js';
import { openaiAdapter } from './providers/openai/index.js';
import { anthropicAdapter } from './providers/anthropic/index.js';
import { openaiCodec } from './inbound/openai/codec.js';
import { anthropicCodec } from './inbound/anthropic/index.js';
import { geminiCodec } from './inbound/gemini/index.js';

const LOADED: readonly ProviderAdapter[] = [openaiAdapter, anthropicAdapter];

/** Adapters loaded on demand, by the channel types each serves. */
const ON_DEMAND: readonly { types: readonly ChannelType[]; load: () => Promise<ProviderAdapter> }[] = [
  { types: ['gemini'], load: async () => (await import('./providers/gemini/index.js')).geminiAdapter },
  { types: ['azure'], load: async () => (await import('./providers/azure/index.js')).azureAdapter },
  { types: ['bedrock'], load: async () => (await import('./providers/bedrock/index.js')).bedrockAdapter },
];

const byType = new Map<ChannelType, ProviderAdapter>();
for (const adapter of LOADED) for (const t of adapter.types) byType.set(t, adapter);

/** Loads the adapters of these channel types that are not loaded yet. */
export async function loadAdapters(types: Iterable<ChannelType>): Promise<void> {
  for (const type of new Set(types)) {
    if (byType.has(type)) continue;
    const entry = ON_DEMAND.find((e) => e.types.includes(type));
    if (entry === undefined) continue; // getAdapter names the unknown type
    const adapter = await entry.load();
    for (const t of adapter.types) byType.set(t, adapter);
  }
}

export function getAdapter(type: ChannelType): ProviderAdapter {
  const adapter = byType.get(type);
  if (adapter) return adapter;
  if (ON_DEMAND.some((e) => e.types.includes(type)))
    throw new Error(`the adapter for channel type ${type} is not loaded: call loadAdapters first`);
  throw new Error(`no adapter for channel type ${type}`);
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
