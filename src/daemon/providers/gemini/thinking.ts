/**
 * The canonical `reasoning_effort` as the thinkingConfig the upstream model takes. Gemini 3 and
 * later take `thinkingLevel` (MINIMAL to HIGH; the Pro models refuse MINIMAL and cannot stop
 * thinking, so their floor is LOW); Gemini 2.5 takes `thinkingBudget` in tokens and refuses a
 * level ("Thinking level is not supported for this model"); 2.0 and older, and Gemma, refuse any
 * thinkingConfig ("thinking_config is not supported"), so the effort is dropped and named there.
 * A model name the gateway does not recognise (an alias such as gemini-flash-latest) gets a
 * budget, which 2.5 and 3 both accept. Efforts above high (xhigh) read as the highest setting;
 * `none` asks for as little thinking as the model allows, without thought summaries.
 */
import type { GeminiThinkingConfig } from './types.js';

type Family = 'level' | 'budget' | 'none';

const EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);

/** 2.5 budgets per effort: 512 is the smallest every 2.5 model takes (Flash-Lite's floor). */
const BUDGET: Record<string, number> = { minimal: 512, low: 1024, medium: 8192, high: 24576, xhigh: 24576 };
/** 2.5 Pro thinks up to 32768 tokens and cannot be switched off (its floor is 128). */
const PRO_BUDGET: Record<string, number> = { ...BUDGET, none: 128, xhigh: 32768 };

const LEVEL: Record<string, string> = {
  none: 'minimal',
  minimal: 'minimal',
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'high',
};

function family(model: string): Family {
  const name = model.toLowerCase().replace(/^models\//, '');
  const version = /^gemini-(\d+)(?:\.(\d+))?/.exec(name);
  if (version === null) return name.startsWith('gemma') ? 'none' : 'budget';
  const major = Number(version[1]);
  if (major >= 3) return 'level';
  return major === 2 && version[2] === '5' ? 'budget' : 'none';
}

function isPro(model: string): boolean {
  return /-pro\b/.test(model.toLowerCase());
}

/**
 * The thinkingConfig for this effort on this model; `undefined` with `dropped` true when the
 * model cannot take one (or the effort is not one the gateway knows), nothing when none is asked.
 */
export function thinkingConfigFor(
  effort: unknown,
  model: string,
): { config?: GeminiThinkingConfig; dropped: boolean } {
  if (typeof effort !== 'string') return { dropped: false };
  const fam = family(model);
  if (!EFFORTS.has(effort) || fam === 'none') return { dropped: effort !== 'none' };
  // Thought summaries come back as reasoning_content; `none` wants no reasoning at all.
  const thoughts = effort === 'none' ? {} : { includeThoughts: true };
  if (fam === 'level') {
    const level = isPro(model) && (effort === 'none' || effort === 'minimal') ? 'low' : LEVEL[effort];
    return { config: { thinkingLevel: level, ...thoughts }, dropped: false };
  }
  const budget = (isPro(model) ? PRO_BUDGET : BUDGET)[effort] ?? 0;
  return { config: { thinkingBudget: budget, ...thoughts }, dropped: false };
}
