/**
 * Gemini's REST API accepts both proto-JSON spellings of a field (`systemInstruction` and
 * `system_instruction`, `inlineData` and `inline_data`...), and clients such as LiteLLM send the
 * snake_case one. The codec reads camelCase only, so keys are camelised first, except inside
 * values that belong to the user (function arguments and results, schemas whose property names
 * must not change).
 */

const VERBATIM = new Set([
  'args',
  'response',
  'parameters',
  'parametersJsonSchema',
  'responseSchema',
  'responseJsonSchema',
  'labels',
]);

function camel(key: string): string {
  return key.includes('_') ? key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()) : key;
}

export function camelizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelizeKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = camel(k);
    out[key] = VERBATIM.has(key) ? v : camelizeKeys(v);
  }
  return out;
}
