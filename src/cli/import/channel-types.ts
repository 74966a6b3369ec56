/**
 * The channel type ids of One API and New API and what each becomes in BurnCloud (TENANTS.md 3.1).
 * The two forks share ids 0-25 and 31, then diverge (One API appends with iota, New API reused
 * and renumbered), so a type id means nothing without the flavour: 26 is Baichuan in One API and
 * Zhipu v4 in New API, 36 DeepSeek and Suno, 45 xAI and VolcEngine. Each row is data: the source's
 * type name (what skipped channels are counted by), its default base URL (`ChannelBaseURLs`, used
 * when a channel's own `base_url` is empty) and the BurnCloud type with how its SDK base URL is
 * made from the source base B. A row without `to` is a type BurnCloud does not speak: skipped.
 * The few types whose import is more than a table lookup (Azure, Bedrock, New API's Custom) are
 * handled by name in plan-channels.ts.
 */
import type { ChannelType } from '../../shared/control-api.js';
import type { ImportFlavor } from '../../shared/import-plan.js';

/** How the BurnCloud base URL is made from B: B plus a path, B as it is, or BurnCloud's default. */
export type BaseRule = { path: string } | 'as-is' | 'default';

export interface TypeRow {
  name: string;
  /** the source's default base URL for the type ('' = none) */
  base: string;
  /** the BurnCloud type; absent: not supported, the channel is skipped */
  to?: ChannelType;
  how?: BaseRule;
  /** a remark for the report on every channel of this type */
  note?: string;
}

const V1: BaseRule = { path: '/v1' };
const compat = (name: string, base: string, how: BaseRule = V1, note?: string): TypeRow => ({
  name,
  base,
  to: 'openai-compatible',
  how,
  ...(note === undefined ? {} : { note }),
});
const skip = (name: string, base = ''): TypeRow => ({ name, base });

const DASHSCOPE = 'https://dashscope.aliyuncs.com';
const GOOGLE = 'https://generativelanguage.googleapis.com';

/** Ids 0-25 except 2, 4 and 5 mean the same in both forks. */
const SHARED: Record<number, TypeRow> = {
  0: skip('Unknown'),
  1: { name: 'OpenAI', base: 'https://api.openai.com', to: 'openai', how: V1 },
  3: { name: 'Azure', base: '', to: 'azure', how: 'as-is' },
  6: compat('OpenAIMax', 'https://api.openaimax.com'),
  7: compat('OhMyGPT', 'https://api.ohmygpt.com'),
  8: compat('Custom', ''),
  9: compat('Ails', 'https://api.caipacity.com'),
  10: compat('AIProxy', 'https://api.aiproxy.io'),
  11: skip('PaLM', GOOGLE),
  12: compat('API2GPT', 'https://api.api2gpt.com'),
  13: compat('AIGC2D', 'https://api.aigc2d.com'),
  14: { name: 'Anthropic', base: 'https://api.anthropic.com', to: 'anthropic', how: 'as-is' },
  15: skip('Baidu', 'https://aip.baidubce.com'),
  16: skip('Zhipu', 'https://open.bigmodel.cn'),
  // both default to mainland DashScope; BurnCloud's qwen defaults to the international one
  17: { name: 'Ali', base: DASHSCOPE, to: 'qwen', how: { path: '/compatible-mode/v1' } },
  18: skip('Xunfei'),
  20: { name: 'OpenRouter', base: 'https://openrouter.ai/api', to: 'openrouter', how: V1 },
  21: skip('AIProxyLibrary', 'https://api.aiproxy.io'),
  22: compat('FastGPT', 'https://fastgpt.run/api/openapi'),
  23: skip('Tencent', 'https://hunyuan.tencentcloudapi.com'),
  24: { name: 'Gemini', base: GOOGLE, to: 'gemini', how: 'default' },
  25: compat('Moonshot', 'https://api.moonshot.cn'),
  31: compat('LingYiWanWu', 'https://api.lingyiwanwu.com'),
};

/** One API (songquanpeng/one-api `relay/channeltype`), ids by iota. */
const ONE_API: Record<number, TypeRow> = {
  ...SHARED,
  2: compat('API2D', 'https://oa.api2d.net'),
  4: compat('CloseAI', 'https://api.closeai-proxy.xyz'),
  5: compat('OpenAISB', 'https://api.openai-sb.com'),
  19: compat('AI360', 'https://ai.360.cn'),
  26: compat('Baichuan', 'https://api.baichuan-ai.com'),
  27: compat(
    'Minimax',
    'https://api.minimax.chat',
    V1,
    'One API called MiniMax on /v1/text/chatcompletion_v2; imported as OpenAI-compatible on /v1: check it with bc channel test',
  ),
  28: { name: 'Mistral', base: 'https://api.mistral.ai', to: 'mistral', how: V1 },
  29: { name: 'Groq', base: 'https://api.groq.com/openai', to: 'groq', how: V1 },
  30: { name: 'Ollama', base: 'http://localhost:11434', to: 'ollama', how: V1 },
  32: compat('StepFun', 'https://api.stepfun.com'),
  33: { name: 'AwsClaude', base: '', to: 'bedrock', how: 'default' },
  34: skip('Coze', 'https://api.coze.com'),
  35: skip('Cohere', 'https://api.cohere.ai'),
  36: { name: 'DeepSeek', base: 'https://api.deepseek.com', to: 'deepseek', how: V1 },
  37: skip('Cloudflare', 'https://api.cloudflare.com'),
  38: skip('DeepL', 'https://api-free.deepl.com'),
  39: { name: 'TogetherAI', base: 'https://api.together.xyz', to: 'together', how: V1 },
  40: compat('Doubao', 'https://ark.cn-beijing.volces.com', { path: '/api/v3' }),
  41: compat('Novita', 'https://api.novita.ai/v3/openai', 'as-is'),
  42: skip('VertexAI'),
  43: skip('Proxy'),
  44: compat('SiliconFlow', 'https://api.siliconflow.cn'),
  45: { name: 'XAI', base: 'https://api.x.ai', to: 'xai', how: V1 },
  46: skip('Replicate', 'https://api.replicate.com/v1/models/'),
  47: compat('BaiduV2', 'https://qianfan.baidubce.com', { path: '/v2' }),
  48: compat('XunfeiV2', 'https://spark-api-open.xf-yun.com'),
  49: { name: 'AliBailian', base: DASHSCOPE, to: 'qwen', how: { path: '/compatible-mode/v1' } },
  // One API drops /v1 from the path for this type: the base is the SDK base already
  50: compat('OpenAICompatible', '', 'as-is'),
  // the key is a Gemini key; BurnCloud speaks Gemini natively
  51: { name: 'GeminiOpenAICompatible', base: GOOGLE, to: 'gemini', how: 'default' },
};

/** New API (QuantumNous/new-api `constant/channel.go`), explicit ids. */
const NEW_API: Record<number, TypeRow> = {
  ...SHARED,
  2: skip('Midjourney'),
  // New API calls Ollama's native /api/chat; Ollama serves the OpenAI API on /v1 too
  4: { name: 'Ollama', base: 'http://localhost:11434', to: 'ollama', how: V1 },
  5: skip('MidjourneyPlus'),
  19: compat('360', 'https://api.360.cn'),
  26: compat('ZhipuV4', 'https://open.bigmodel.cn', { path: '/api/paas/v4' }),
  27: compat('Perplexity', 'https://api.perplexity.ai', 'as-is'),
  33: { name: 'AWS', base: '', to: 'bedrock', how: 'default' },
  34: skip('Cohere', 'https://api.cohere.ai'),
  35: skip('MiniMax', 'https://api.minimax.chat'),
  36: skip('SunoAPI'),
  37: skip('Dify', 'https://api.dify.ai'),
  38: skip('Jina', 'https://api.jina.ai'),
  39: skip('Cloudflare', 'https://api.cloudflare.com'),
  40: compat('SiliconFlow', 'https://api.siliconflow.cn'),
  41: skip('VertexAi'),
  42: { name: 'Mistral', base: 'https://api.mistral.ai', to: 'mistral', how: V1 },
  43: { name: 'DeepSeek', base: 'https://api.deepseek.com', to: 'deepseek', how: V1 },
  44: skip('MokaAI', 'https://api.moka.ai'),
  45: compat('VolcEngine', 'https://ark.cn-beijing.volces.com', { path: '/api/v3' }),
  46: compat('BaiduV2', 'https://qianfan.baidubce.com', { path: '/v2' }),
  47: compat('Xinference', ''),
  48: { name: 'xAI', base: 'https://api.x.ai', to: 'xai', how: V1 },
  49: skip('Coze', 'https://api.coze.cn'),
  50: skip('Kling', 'https://api.klingai.com'),
  51: skip('Jimeng', 'https://visual.volcengineapi.com'),
  52: skip('Vidu', 'https://api.vidu.cn'),
  53: compat('Submodel', 'https://llm.submodel.ai'),
  54: skip('DoubaoVideo', 'https://ark.cn-beijing.volces.com'),
  55: skip('Sora', 'https://api.openai.com'),
  56: skip('Replicate', 'https://api.replicate.com'),
  57: skip('Codex', 'https://chatgpt.com'),
  58: skip('AdvancedCustom'),
  // both speak the OpenAI API
  59: compat('Sub2API', ''),
  60: compat('NewAPI', ''),
};

const TABLES: Record<ImportFlavor, Record<number, TypeRow>> = { 'one-api': ONE_API, 'new-api': NEW_API };

/** The row of a type id in a flavour; an id neither fork defines is an unknown type (skipped). */
export function typeRow(flavor: ImportFlavor, id: number): TypeRow {
  return Object.hasOwn(TABLES[flavor], id) ? (TABLES[flavor][id] as TypeRow) : skip(`type ${id}`);
}

/**
 * New API's named special bases (`ChannelSpecialBases`): a `base_url` that is a name, not a URL,
 * resolving to an OpenAI-compatible base.
 */
export const NEW_API_SPECIAL_BASES: Readonly<Record<string, string>> = {
  'glm-coding-plan': 'https://open.bigmodel.cn/api/coding/paas/v4',
  'kimi-coding-plan': 'https://api.kimi.com/coding/v1',
};

/** New API: Azure deployments keep the model's dots for channels created from this day on. */
export const NEW_API_AZURE_DOTS_FROM = Date.UTC(2025, 4, 10) / 1000;
/** New API's `AZURE_DEFAULT_API_VERSION`. */
export const NEW_API_AZURE_API_VERSION = '2025-04-01-preview';
