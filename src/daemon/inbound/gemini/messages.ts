/**
 * Gemini contents -> OpenAI messages. A `model` turn becomes one assistant message (thought parts
 * as reasoning_content, functionCall parts as tool calls); a `user` turn becomes its tool results
 * (functionResponse parts, one tool message each) followed by the user's own parts. Gemini calls
 * usually have no ids while OpenAI results must name one, so ids are made up per call and each
 * result is matched to the earliest open call of the same name (or to its id, when it has one).
 * Parts OpenAI has no form for (code execution, files by URI that are not images, a function call
 * in a user turn) and part fields it cannot carry (video metadata, a thought signature anywhere
 * but on a call) are named in `dropped`.
 */
import type { OpenAIContentPart, OpenAIMessage, OpenAIToolCall } from '../../providers/openai/types.js';
import { signatureExtra } from '../../providers/gemini/thought-signature.js';
import type { GeminiContent, GeminiPart } from '../../providers/gemini/types.js';

export class CallIds {
  private open: { id: string; name: string }[] = [];
  private seq = 0;

  call(name: string, id: string | undefined): string {
    const callId = id !== undefined && id !== '' ? id : `call_gemini_${this.seq++}`;
    this.open.push({ id: callId, name });
    return callId;
  }

  result(name: string, id: string | undefined): string {
    let at = id === undefined ? -1 : this.open.findIndex((c) => c.id === id);
    if (at === -1) at = this.open.findIndex((c) => c.name === name);
    if (at === -1) return id !== undefined && id !== '' ? id : `call_gemini_${this.seq++}`;
    const [match] = this.open.splice(at, 1);
    return match?.id ?? name;
  }
}

const AUDIO_FORMATS: Record<string, string> = {
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/mp3': 'mp3',
  'audio/mpeg': 'mp3',
};

function mediaPart(mimeType: string, data: string): OpenAIContentPart {
  if (mimeType.startsWith('image/'))
    return { type: 'image_url', image_url: { url: `data:${mimeType};base64,${data}` } };
  const format = AUDIO_FORMATS[mimeType];
  if (format !== undefined) return { type: 'input_audio', input_audio: { data, format } };
  const ext = mimeType.split('/')[1]?.split(/[;+]/)[0] ?? 'bin';
  return { type: 'file', file: { file_data: `data:${mimeType};base64,${data}`, filename: `file.${ext}` } };
}

/** `{content: "..."}` is how text tool output is wrapped going to Gemini; unwrap it coming back. */
function resultText(response: Record<string, unknown>): string {
  const keys = Object.keys(response);
  if (keys.length === 1 && typeof response.content === 'string') return response.content;
  return JSON.stringify(response);
}

/** Part fields every part may carry beside its data; what they say has no OpenAI form. */
const PART_EXTRAS = ['videoMetadata', 'mediaResolution', 'partMetadata'];

/** Names, once each, what a part carries that its conversion leaves behind. */
function noteExtras(part: GeminiPart, dropped: string[], signatureKept: boolean): void {
  for (const k of PART_EXTRAS) if (part[k] !== undefined) note(dropped, `contents[].parts[].${k}`);
  if (!signatureKept && typeof part.thoughtSignature === 'string')
    note(dropped, 'contents[].parts[].thoughtSignature');
  const response = part.functionResponse as Record<string, unknown> | undefined;
  if (response?.parts !== undefined) note(dropped, 'contents[].parts[].functionResponse.parts');
}

/** A field name for the log row's dropped_fields, once however many parts lost it. */
export function note(dropped: string[], field: string): void {
  if (!dropped.includes(field)) dropped.push(field);
}

function userPart(part: GeminiPart, where: string, dropped: string[]): OpenAIContentPart | undefined {
  if (typeof part.text === 'string') return part.text === '' ? undefined : { type: 'text', text: part.text };
  if (part.inlineData !== undefined) return mediaPart(part.inlineData.mimeType, part.inlineData.data);
  const mime = part.fileData?.mimeType;
  if (part.fileData !== undefined && (mime === undefined || mime.startsWith('image/'))) {
    return { type: 'image_url', image_url: { url: part.fileData.fileUri } };
  }
  dropped.push(where);
  return undefined;
}

function userMessages(c: GeminiContent, i: number, ids: CallIds, dropped: string[]): OpenAIMessage[] {
  const results: OpenAIMessage[] = [];
  const parts: OpenAIContentPart[] = [];
  c.parts.forEach((part, j) => {
    noteExtras(part, dropped, false);
    const fr = part.functionResponse;
    if (fr !== undefined) {
      const response = typeof fr.response === 'object' && fr.response !== null ? fr.response : {};
      results.push({ role: 'tool', tool_call_id: ids.result(fr.name, fr.id), content: resultText(response) });
      return;
    }
    const p = userPart(part, `contents[${i}].parts[${j}]`, dropped);
    if (p !== undefined) parts.push(p);
  });
  if (parts.length === 0) return results;
  const only = parts[0];
  const content = parts.length === 1 && only?.type === 'text' ? only.text : parts;
  return [...results, { role: 'user', content }];
}

function modelMessage(
  c: GeminiContent,
  i: number,
  ids: CallIds,
  dropped: string[],
): OpenAIMessage | undefined {
  let text = '';
  let reasoning = '';
  const toolCalls: OpenAIToolCall[] = [];
  c.parts.forEach((part, j) => {
    const fc = part.functionCall;
    // a call's signature rides on its tool call; others' (on text and thoughts) cannot
    noteExtras(part, dropped, fc !== undefined);
    if (fc !== undefined) {
      toolCalls.push({
        id: ids.call(fc.name, fc.id),
        type: 'function',
        function: { name: fc.name, arguments: JSON.stringify(fc.args ?? {}) },
        ...signatureExtra(typeof part.thoughtSignature === 'string' ? part.thoughtSignature : undefined),
      });
    } else if (typeof part.text === 'string') {
      if (part.thought === true) reasoning += part.text;
      else text += part.text;
    } else {
      dropped.push(`contents[${i}].parts[${j}]`);
    }
  });
  if (text === '' && toolCalls.length === 0) return undefined;
  return {
    role: 'assistant',
    content: text === '' ? null : text,
    ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    ...(reasoning !== '' ? { reasoning_content: reasoning } : {}),
  };
}

export function contentsToMessages(contents: GeminiContent[], dropped: string[]): OpenAIMessage[] {
  const ids = new CallIds();
  const out: OpenAIMessage[] = [];
  contents.forEach((c, i) => {
    if (c.role === 'model') {
      const m = modelMessage(c, i, ids, dropped);
      if (m !== undefined) out.push(m);
    } else {
      out.push(...userMessages(c, i, ids, dropped));
    }
  });
  return out;
}

/** The system instruction's text; its other parts (images, files) have no place in a system message. */
export function systemText(parts: GeminiPart[] | undefined, dropped: string[]): string {
  return (parts ?? [])
    .map((p, j) => {
      if (typeof p.text === 'string') return p.text;
      dropped.push(`systemInstruction.parts[${j}]`);
      return '';
    })
    .join('');
}
