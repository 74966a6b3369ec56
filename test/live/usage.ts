/**
 * What a live case hands back and what the log row must then say. Every client reports usage in
 * its own protocol's terms; here each becomes the gateway's terms (input = every prompt token,
 * cache reads and writes included; output = every generated token, thinking included, as the
 * providers bill it), and the cost a row must carry is worked out from the price the daemon lists,
 * by SPEC section 7's formula written out again here rather than borrowed from the gateway.
 */
import type { LogRow } from '../../src/shared/control-api.js';

export interface ClientUsage {
  input: number;
  cached: number;
  cacheWrite: number;
  output: number;
}

/** One answer as the application saw it. */
export interface Answer {
  text: string;
  usage: ClientUsage;
  /** stream events or chunks that arrived (1 for a whole answer) */
  pieces: number;
}

/** A forced tool call, then the answer to the turn carrying the tool's result. */
export interface ToolRoundTrip {
  call: { name: string; args: Record<string, unknown> };
  first: ClientUsage;
  answer: Answer;
}

/** A case's client calls, one implementation per front. */
export interface FrontClient {
  text(model: string): Promise<Answer>;
  stream(model: string): Promise<Answer>;
  tools(model: string): Promise<ToolRoundTrip>;
}

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export interface OpenAIUsageLike {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null; cache_creation_input_tokens?: number } | null;
  /** DeepSeek's name for cache reads */
  prompt_cache_hit_tokens?: number;
  /** Qwen's cache writes; also what the gateway adds when a converted upstream wrote a prompt cache */
  cache_creation_input_tokens?: number;
}

/** prompt_tokens already holds the cached tokens; the compatible providers name cache figures their own way. */
export function fromOpenAI(u: OpenAIUsageLike | null | undefined): ClientUsage {
  const details = u?.prompt_tokens_details;
  return {
    input: n(u?.prompt_tokens),
    cached: n(details?.cached_tokens ?? u?.prompt_cache_hit_tokens),
    cacheWrite: n(details?.cache_creation_input_tokens ?? u?.cache_creation_input_tokens),
    output: n(u?.completion_tokens),
  };
}

export interface AnthropicUsageLike {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/** Anthropic's input_tokens leaves out cache reads and writes. */
export function fromAnthropic(u: AnthropicUsageLike | null | undefined): ClientUsage {
  const cached = n(u?.cache_read_input_tokens);
  const cacheWrite = n(u?.cache_creation_input_tokens);
  return { input: n(u?.input_tokens) + cached + cacheWrite, cached, cacheWrite, output: n(u?.output_tokens) };
}

export interface GeminiUsageLike {
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
}

/** Gemini's candidatesTokenCount leaves out thoughts, which Google bills as output. */
export function fromGemini(u: GeminiUsageLike | null | undefined): ClientUsage {
  return {
    input: n(u?.promptTokenCount),
    cached: n(u?.cachedContentTokenCount),
    cacheWrite: 0,
    output: n(u?.candidatesTokenCount) + n(u?.thoughtsTokenCount),
  };
}

/** A price as `bc price list --json` shows it (micro-USD per 1M tokens), as far as billing reads it. */
export interface ListedPrice {
  model: string;
  input: number | null;
  output: number | null;
  cache_read: number | null;
  cache_write: number | null;
  per_request: number | null;
  /** long-context prices, each for a whole request whose input exceeds `above_input_tokens` */
  tiers?: ({ above_input_tokens: number } & Omit<ListedPrice, 'model' | 'tiers' | 'per_request'>)[];
}

export interface Rates {
  input: number;
  output: number;
  cache_read: number | null;
  cache_write: number | null;
  per_request: number | null;
}

/**
 * The price billing uses: the model's own row, else its upstream model's (an alias a channel maps);
 * undefined when neither has one (a listed row without money is an unpriced model).
 */
export function priceOf(prices: ListedPrice[], model: string, upstream: string): ListedPrice | undefined {
  const priced = (name: string) =>
    prices.find((p) => p.model === name && p.input !== null && p.output !== null);
  return priced(model) ?? priced(upstream);
}

/** The rates for a request of `input` prompt tokens: the highest long-context tier it passes, else the base. */
function ratesFor(price: ListedPrice, input: number): Rates {
  const tier = (price.tiers ?? [])
    .filter((t) => input > t.above_input_tokens)
    .sort((a, b) => b.above_input_tokens - a.above_input_tokens)[0];
  const r = tier ?? price;
  return {
    input: r.input ?? 0,
    output: r.output ?? 0,
    cache_read: r.cache_read,
    cache_write: r.cache_write,
    per_request: price.per_request,
  };
}

/**
 * Micro-USD: (uncached x input + cache reads x cache-read + cache writes x cache-write + output x
 * output) / 1e6 + per-request, rounded once, half up (group ratio 1: the key is in the default
 * group of a fresh home). Unpriced models are logged with cost null.
 */
export function expectedCost(price: ListedPrice | undefined, u: ClientUsage): number | null {
  if (price === undefined) return null;
  const r = ratesFor(price, u.input);
  const cached = Math.min(u.cached, u.input);
  const writes = Math.min(u.cacheWrite, u.input - cached);
  const micro =
    (u.input - cached - writes) * r.input +
    cached * (r.cache_read ?? r.input) +
    writes * (r.cache_write ?? r.input) +
    u.output * r.output;
  return Math.floor((micro + 500_000) / 1_000_000) + (r.per_request ?? 0);
}

/** The row's usage and cost, in the shape they are compared in. */
export function billedOf(row: LogRow): ClientUsage & { cost: number | null } {
  return {
    input: row.input_tokens,
    cached: row.cached_tokens,
    cacheWrite: row.cache_write_tokens,
    output: row.output_tokens,
    cost: row.cost,
  };
}
