/**
 * Shape checks for a Gemini generateContent body before conversion. Failures are BcError
 * INVALID_REQUEST naming the field as Gemini's own messages do (`contents[0].parts: ...`), so a
 * client sees what to fix instead of a confusing answer from whichever channel serves it. Only
 * what Gemini itself refuses and the conversion relies on is checked (contents, roles, non-empty
 * parts, the data a part names); fields, part kinds and tools it does not know pass, to be
 * carried by passthrough or named as dropped by the conversion.
 */
import type { GeminiContent, GeminiPart, GeminiRequest } from '../../providers/gemini/types.js';
import { invalid, isObject, type Json } from '../validate.js';

export { invalid, isObject, type Json };

function validatePart(p: unknown, where: string): GeminiPart {
  if (!isObject(p)) throw invalid(where, 'must be an object');
  if (p.text !== undefined && typeof p.text !== 'string') throw invalid(`${where}.text`, 'must be a string');
  if (p.inlineData !== undefined) {
    const d = p.inlineData;
    if (!isObject(d) || typeof d.data !== 'string' || typeof d.mimeType !== 'string') {
      throw invalid(`${where}.inlineData`, 'needs string mimeType and data');
    }
  }
  if (p.fileData !== undefined && !(isObject(p.fileData) && typeof p.fileData.fileUri === 'string')) {
    throw invalid(`${where}.fileData`, 'needs a string fileUri');
  }
  for (const key of ['functionCall', 'functionResponse'] as const) {
    const v = p[key];
    if (v !== undefined && !(isObject(v) && typeof v.name === 'string' && v.name !== '')) {
      throw invalid(`${where}.${key}.name`, 'is required');
    }
  }
  return p;
}

function validateContent(c: unknown, i: number): GeminiContent {
  const where = `contents[${i}]`;
  if (!isObject(c)) throw invalid(where, 'must be an object');
  // An empty role is proto JSON's unset field, as is null; `function` is the older API's role
  // for function results, which Gemini still takes.
  const role = c.role ?? '';
  if (role !== '' && role !== 'user' && role !== 'model' && role !== 'function') {
    throw invalid(`${where}.role`, 'Please use a valid role: user, model.');
  }
  if (!Array.isArray(c.parts) || c.parts.length === 0) {
    throw invalid(`${where}.parts`, 'must be a non-empty array');
  }
  const parts = c.parts.map((p, j) => validatePart(p, `${where}.parts[${j}]`));
  return { ...(typeof role === 'string' && role !== '' ? { role } : {}), parts };
}

function validateSystem(s: unknown): GeminiContent | undefined {
  if (s === undefined || s === null) return undefined;
  if (typeof s === 'string') return { parts: [{ text: s }] };
  if (!isObject(s) || !Array.isArray(s.parts)) throw invalid('systemInstruction.parts', 'must be an array');
  return { parts: s.parts.map((p, j) => validatePart(p, `systemInstruction.parts[${j}]`)) };
}

/** A camelised body -> a GeminiRequest whose structure the converter may trust. */
export function validateGeminiRequest(body: unknown): GeminiRequest {
  if (!isObject(body)) throw invalid('contents', 'the request body must be a JSON object');
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    throw invalid('contents', body.contents === undefined ? 'is required' : 'must be a non-empty array');
  }
  const contents = body.contents.map(validateContent);
  for (const key of ['tools', 'safetySettings'] as const) {
    if (body[key] !== undefined && !Array.isArray(body[key])) throw invalid(key, 'must be an array');
  }
  for (const key of ['toolConfig', 'generationConfig'] as const) {
    if (body[key] !== undefined && !isObject(body[key])) throw invalid(key, 'must be an object');
  }
  const { systemInstruction: rawSystem, ...rest } = body;
  const systemInstruction = validateSystem(rawSystem);
  return {
    ...rest,
    contents,
    ...(systemInstruction === undefined ? {} : { systemInstruction }),
  };
}
