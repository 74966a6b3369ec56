/**
 * How many answers the OpenAI simulator produces and bills, as the real API does: chat and
 * legacy completions return `n` answers and bill each; legacy completions generate and bill
 * `best_of` (at least `n`, never streamed) and return the best `n`, for each prompt of a batch
 * (`prompt` as a list of strings or of token lists). OpenAI's refusals of these counts (more
 * than 128) come back as its 400s.
 */

type Json = Record<string, unknown>;

/** An answer count as the request gives it; 1 when unset. */
export const answerCount = (v: unknown): number => (typeof v === 'number' && v > 1 ? v : 1);

/** Prompts in a legacy completions batch; 1 for a string, one token list, or a chat body. */
export function promptCount(prompt: unknown): number {
  if (!Array.isArray(prompt) || prompt.length === 0) return 1;
  return prompt.every((p) => typeof p === 'number') ? 1 : prompt.length;
}

/** OpenAI's limit on answers per request. */
const MAX_CHOICES = 128;

/**
 * What OpenAI refuses in a request's answer count (n, and for legacy completions best_of), as a
 * 400 body's message, param and code; undefined when nothing.
 */
export function choicesProblem(
  body: Json,
  legacy: boolean,
): { message: string; param: string; code: string } | undefined {
  for (const param of legacy ? ['n', 'best_of'] : ['n']) {
    const v = body[param];
    if (typeof v === 'number' && v > MAX_CHOICES)
      return {
        message: `Invalid '${param}': integer above maximum value. Expected a value less than or equal to ${MAX_CHOICES}, but got ${v} instead.`,
        param,
        code: 'integer_above_max_value',
      };
  }
  if (!legacy || typeof body.best_of !== 'number' || body.best_of <= 1) return undefined;
  if (body.best_of < answerCount(body.n))
    return {
      message: 'best_of must be greater than or equal to n.',
      param: 'best_of',
      code: 'invalid_value',
    };
  if (body.stream === true)
    return { message: 'Cannot stream results with best_of > 1.', param: 'best_of', code: 'invalid_value' };
  return undefined;
}
