/**
 * Where a Gemini `thoughtSignature` lives while a conversation passes through OpenAI shapes.
 * Gemini 3 rejects a later turn whose function-call parts lost their signature, and OpenAI tool
 * calls have no field for it, so it rides in `extra_content.google.thought_signature` on the tool
 * call: the field Google's own OpenAI-compatible endpoint uses, which clients echo back.
 */

export interface ToolCallExtra {
  extra_content?: { google?: { thought_signature?: string } };
}

export function signatureOf(toolCall: object): string | undefined {
  const extra = (toolCall as ToolCallExtra).extra_content;
  const sig = extra?.google?.thought_signature;
  return typeof sig === 'string' && sig !== '' ? sig : undefined;
}

export function signatureExtra(sig: string | undefined): ToolCallExtra {
  return sig === undefined ? {} : { extra_content: { google: { thought_signature: sig } } };
}
