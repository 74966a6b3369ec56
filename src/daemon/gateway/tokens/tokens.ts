/**
 * The offline tokenizer (o200k_base, counts identical to gpt-tokenizer's) for budget reservations,
 * TPM estimates, count_tokens and usage estimates when an upstream reports none. Loaded lazily on
 * first use: its tables (off the V8 heap, see bpe.ts) cost a few MB, and most deployments with
 * upstream usage never need them.
 */
import type { OpenAIChatRequest, OpenAIMessage } from '../../providers/openai/types.js';
import { createO200kCounter } from './bpe.js';

type CountFn = (text: string) => number;
let counter: CountFn | undefined;

/**
 * Chat clients resend the whole conversation every turn, so most message texts were counted
 * before: a bounded cache of counts per text makes a long history cost a map lookup, not a BPE
 * pass. Oldest-first eviction: a hit costs one lookup (no reordering on every request), and a
 * text still in use that falls out is simply counted again.
 */
const CACHE_MIN_CHARS = 64;
const CACHE_MAX_CHARS = 32 * 1024;
/** total characters held by the cache (about 8 MB of strings at most) */
const CACHE_BUDGET_CHARS = 4 * 1024 * 1024;
const cache = new Map<string, number>();
let cachedChars = 0;

function cached(count: CountFn): CountFn {
  return (text) => {
    if (text.length < CACHE_MIN_CHARS || text.length > CACHE_MAX_CHARS) return count(text);
    const hit = cache.get(text);
    if (hit !== undefined) return hit;
    const n = count(text);
    cache.set(text, n);
    cachedChars += text.length;
    while (cachedChars > CACHE_BUDGET_CHARS) {
      const oldest = cache.keys().next().value!;
      cache.delete(oldest);
      cachedChars -= oldest.length;
    }
    return n;
  };
}

async function load(): Promise<CountFn> {
  counter ??= cached(createO200kCounter());
  return counter;
}

export async function countTextTokens(text: string): Promise<number> {
  if (text.length === 0) return 0;
  return (await load())(text);
}

/** Per-message overhead as OpenAI's chat format counts it (role markers and separators). */
const PER_MESSAGE = 4;
/** Images are counted at a fixed, deliberately high cost (a 512x512 tile set). */
const PER_IMAGE = 765;

/** Tokens of a chat request's prompt: messages, tool definitions and the reply primer. */
export async function countChatTokens(req: Pick<OpenAIChatRequest, 'messages' | 'tools'>): Promise<number> {
  const count = await load();
  let total = 3;
  for (const m of req.messages) total += PER_MESSAGE + messageTokens(m, count);
  if (req.tools && req.tools.length > 0) total += count(JSON.stringify(req.tools));
  return total;
}

function messageTokens(m: OpenAIMessage, count: CountFn): number {
  // the role is one token in every OpenAI tokenizer
  let total = 1;
  const content = m.content;
  if (typeof content === 'string') total += count(content);
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (part.type === 'text' && typeof part.text === 'string') total += count(part.text);
      else total += PER_IMAGE;
    }
  }
  if (m.role === 'assistant' && m.tool_calls) {
    for (const tc of m.tool_calls) total += count(tc.function.name) + count(tc.function.arguments) + 3;
  }
  return total;
}
