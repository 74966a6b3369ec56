/**
 * Which way a Claude model takes reasoning. Claude 4.6 and later think adaptively
 * (`thinking: {type: "adaptive"}` with `output_config.effort`); from Opus 4.7 on, a fixed
 * `budget_tokens` is refused with a 400, so a canonical reasoning effort must become an effort
 * there, and a budget only for older models. Bedrock's Claude ids (`us.anthropic.claude-opus-4-6-v1`)
 * read the same way.
 */
import type { OpenAIChatRequest } from '../openai/types.js';

type Effort = NonNullable<OpenAIChatRequest['reasoning_effort']>;

/** The family's major and minor version from a Claude model id, or undefined for other models. */
function claudeVersion(model: string): { major: number; minor: number } | undefined {
  const m = /claude-[a-z]+-(\d+)(?:-(\d{1,2})(?!\d))?/.exec(model);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: m[2] === undefined ? 0 : Number(m[2]) };
}

/** Claude 4.6 and later (every 5.x family), named the way Anthropic and Bedrock name them. */
export function usesAdaptiveThinking(model: string): boolean {
  const v = claudeVersion(model);
  return v !== undefined && (v.major >= 5 || (v.major === 4 && v.minor >= 6));
}

/** Anthropic's effort scale has no `minimal`: the least it takes is low. */
export function anthropicEffort(effort: Effort): 'low' | 'medium' | 'high' {
  return effort === 'minimal' ? 'low' : effort;
}

/**
 * A client's reasoning_effort as one Claude can take: OpenAI also accepts `none` (no reasoning)
 * and levels above high (`xhigh`), which a passthrough-minded client sends as they are.
 */
export function claudeEffort(v: unknown): Effort | undefined {
  if (v === undefined || v === null || v === 'none') return undefined;
  if (v === 'minimal' || v === 'low' || v === 'medium' || v === 'high') return v;
  return 'high';
}
