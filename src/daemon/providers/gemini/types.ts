/**
 * Gemini generateContent wire types (PROTOCOLS.md section 5), shared by the outbound adapter and
 * the Gemini-native inbound codec. Only the fields the gateway reads or writes are named; the
 * index signatures keep everything else so nothing is lost when a body is read and re-written.
 */

export interface GeminiFunctionCall {
  /** newer API versions may send one; most answers carry none */
  id?: string;
  name: string;
  args?: Record<string, unknown>;
}

export interface GeminiFunctionResponse {
  id?: string;
  name: string;
  response: Record<string, unknown>;
}

export interface GeminiPart {
  text?: string;
  /** a thought-summary part (only with thinkingConfig.includeThoughts) */
  thought?: boolean;
  /** opaque; Gemini 3 wants it echoed back on the same part in later turns */
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: GeminiFunctionCall;
  functionResponse?: GeminiFunctionResponse;
  [k: string]: unknown;
}

export interface GeminiContent {
  role?: string;
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
  parametersJsonSchema?: unknown;
}

export interface GeminiTool {
  functionDeclarations?: GeminiFunctionDeclaration[];
  [k: string]: unknown;
}

export interface GeminiFunctionCallingConfig {
  mode?: 'AUTO' | 'ANY' | 'NONE' | 'VALIDATED' | 'MODE_UNSPECIFIED';
  allowedFunctionNames?: string[];
}

export interface GeminiThinkingConfig {
  thinkingBudget?: number;
  includeThoughts?: boolean;
  thinkingLevel?: string;
}

export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  topK?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseSchema?: Record<string, unknown>;
  responseJsonSchema?: unknown;
  thinkingConfig?: GeminiThinkingConfig;
  [k: string]: unknown;
}

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: GeminiContent;
  tools?: GeminiTool[];
  toolConfig?: { functionCallingConfig?: GeminiFunctionCallingConfig };
  generationConfig?: GeminiGenerationConfig;
  safetySettings?: unknown[];
  [k: string]: unknown;
}

export interface GeminiUsageMetadata {
  /** every prompt token, cached ones included */
  promptTokenCount?: number;
  /** visible output only; thoughts are counted apart */
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
  [k: string]: unknown;
}

export interface GeminiCandidate {
  content?: GeminiContent;
  finishReason?: string;
  index?: number;
  finishMessage?: string;
  [k: string]: unknown;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string; [k: string]: unknown };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
  [k: string]: unknown;
}

/** `{"error":{...}}`, the shape of every Gemini failure, in a body or in a stream frame */
export interface GeminiErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] };
}
