/**
 * The providers the live suite knows and how the environment selects them. A provider runs when
 * `BC_LIVE_<NAME>_KEY` is set (and whatever else its upstream cannot do without, such as Azure's
 * resource URL); `BC_LIVE_<NAME>_BASE_URL` and `BC_LIVE_<NAME>_MODEL` override the channel's base
 * URL and the upstream model, which default to the provider's own endpoint and a cheap model.
 * Each provider's channel serves one alias of its own (`live-<name>`), so two providers that
 * serve the same model (OpenAI and Azure both default to gpt-4.1-mini) never share a request.
 * Pure data and environment reading: the reporter, the global setup and the tests all use it.
 */

/** The official client a case speaks through: each is a front of the gateway. */
export type Front = 'openai' | 'anthropic' | 'gemini';
export type CaseKind = 'text' | 'stream' | 'tools';

export interface ProviderSpec {
  /** channel name, alias suffix and, upper-cased, the BC_LIVE_<NAME>_* prefix */
  name: string;
  /** `bc channel add --type` */
  type: string;
  defaultModel: string;
  /** variables besides the key without which the provider cannot run (suffixes after the prefix) */
  requires?: readonly string[];
  /** more `bc channel add` flags read from the environment (`v('REGION')` reads BC_LIVE_<NAME>_REGION) */
  flags?: (v: (suffix: string) => string | undefined, model: string) => string[];
  /** the upstream model the alias maps to, when it is not the model itself (Azure: its deployment) */
  upstream?: (v: (suffix: string) => string | undefined, model: string) => string;
  /** fields the OpenAI client adds to this provider's requests, over the defaults */
  openaiExtra?: Record<string, unknown>;
  /** the cases to run, per client; the first is the provider's native front */
  fronts: readonly { front: Front; cases: readonly CaseKind[] }[];
}

const ALL: readonly CaseKind[] = ['text', 'stream', 'tools'];
const OPENAI_FRONT = [{ front: 'openai', cases: ALL }] as const;

/** OpenAI-compatible presets: the OpenAI client is their native front. */
function compatible(name: string, defaultModel: string): ProviderSpec {
  return { name, type: name, defaultModel, fronts: OPENAI_FRONT };
}

export const PROVIDERS: readonly ProviderSpec[] = [
  {
    name: 'openai',
    type: 'openai',
    defaultModel: 'gpt-4.1-mini',
    fronts: [
      { front: 'openai', cases: ALL },
      { front: 'anthropic', cases: ['text'] },
    ],
  },
  {
    name: 'anthropic',
    type: 'anthropic',
    defaultModel: 'claude-haiku-4-5',
    fronts: [
      { front: 'anthropic', cases: ALL },
      { front: 'openai', cases: ALL },
    ],
  },
  {
    name: 'gemini',
    type: 'gemini',
    defaultModel: 'gemini-2.5-flash',
    // Gemini 2.5 thinks unless told not to, and its thoughts count against the output limit. The
    // Gemini client turns thinking off (budget 0); from the OpenAI front the lowest effort the
    // gateway maps is `minimal` (a 128-token budget), so that answer gets room beyond it.
    openaiExtra: { reasoning_effort: 'minimal', max_tokens: 256 },
    fronts: [
      { front: 'gemini', cases: ALL },
      { front: 'openai', cases: ['text'] },
    ],
  },
  {
    name: 'azure',
    type: 'azure',
    defaultModel: 'gpt-4.1-mini',
    requires: ['BASE_URL'],
    flags: (v) => (v('API_VERSION') ? ['--api-version', v('API_VERSION') ?? ''] : []),
    upstream: (v, model) => v('DEPLOYMENT') ?? model,
    fronts: OPENAI_FRONT,
  },
  {
    name: 'bedrock',
    type: 'bedrock',
    defaultModel: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
    flags: (v) => ['--region', v('REGION') ?? 'us-east-1'],
    fronts: [
      { front: 'anthropic', cases: ALL },
      { front: 'openai', cases: ['text'] },
    ],
  },
  compatible('deepseek', 'deepseek-chat'),
  compatible('qwen', 'qwen-turbo'),
  compatible('mistral', 'mistral-small-latest'),
  compatible('groq', 'llama-3.1-8b-instant'),
  compatible('xai', 'grok-4-fast-non-reasoning'),
  compatible('openrouter', 'openai/gpt-4.1-mini'),
];

export interface LiveProvider {
  spec: ProviderSpec;
  /** what clients ask for: the channel's alias */
  alias: string;
  /** the model the provider is asked for */
  upstreamModel: string;
  /** the upstream secret; never printed */
  key: string;
  /** `bc channel add` arguments after the key (models, map, base URL, provider flags) */
  channelArgs: string[];
}

export interface Skipped {
  name: string;
  /** what to set, e.g. "set BC_LIVE_AZURE_KEY, BC_LIVE_AZURE_BASE_URL" */
  hint: string;
}

export interface Selection {
  ran: LiveProvider[];
  skipped: Skipped[];
}

export type Env = Record<string, string | undefined>;

export function envName(provider: string, suffix: string): string {
  return `BC_LIVE_${provider.toUpperCase()}_${suffix}`;
}

/** Which providers the environment configures, and for the others what is missing. */
export function selectProviders(env: Env): Selection {
  const sel: Selection = { ran: [], skipped: [] };
  for (const spec of PROVIDERS) {
    const v = (suffix: string): string | undefined => {
      const value = env[envName(spec.name, suffix)]?.trim();
      return value === '' ? undefined : value;
    };
    const missing = ['KEY', ...(spec.requires ?? [])].filter((s) => v(s) === undefined);
    if (missing.length > 0) {
      sel.skipped.push({
        name: spec.name,
        hint: `set ${missing.map((s) => envName(spec.name, s)).join(', ')}`,
      });
      continue;
    }
    const model = v('MODEL') ?? spec.defaultModel;
    const alias = `live-${spec.name}`;
    const upstreamModel = spec.upstream?.(v, model) ?? model;
    const baseUrl = v('BASE_URL');
    sel.ran.push({
      spec,
      alias,
      upstreamModel,
      key: v('KEY') ?? '',
      channelArgs: [
        ...['--models', alias, '--map', `${alias}=${upstreamModel}`],
        ...(baseUrl ? ['--base-url', baseUrl] : []),
        ...(spec.flags?.(v, model) ?? []),
      ],
    });
  }
  return sel;
}

/** Set to 1 to let a run with no configured provider pass (the default is to fail it). */
export const ALLOW_NONE = 'BC_LIVE_ALLOW_NONE';

export function allowNone(env: Env): boolean {
  return env[ALLOW_NONE] === '1';
}
