/**
 * Bedrock Converse wire types (PROTOCOLS.md 6.2/6.3): the request we send, the non-stream answer
 * and the stream event payloads we read. Only the fields the conversion touches are spelled out;
 * upstream answers are parsed defensively, so every response field is optional.
 */

export interface ConverseImageBlock {
  image: { format: 'png' | 'jpeg' | 'gif' | 'webp'; source: { bytes: string } };
}
export interface ConverseToolUseBlock {
  toolUse: { toolUseId: string; name: string; input: unknown };
}
export interface ConverseToolResultBlock {
  toolResult: { toolUseId: string; content: { text: string }[]; status?: 'success' | 'error' };
}
export type ConverseContentBlock =
  { text: string } | ConverseImageBlock | ConverseToolUseBlock | ConverseToolResultBlock;

export interface ConverseMessage {
  role: 'user' | 'assistant';
  content: ConverseContentBlock[];
}

export interface ConverseToolSpec {
  toolSpec: { name: string; description?: string; inputSchema: { json: Record<string, unknown> } };
}

export type ConverseToolChoice =
  { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } };

export interface ConverseRequest {
  messages: ConverseMessage[];
  system?: { text: string }[];
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: { tools: ConverseToolSpec[]; toolChoice?: ConverseToolChoice };
  additionalModelRequestFields?: Record<string, unknown>;
}

export interface ConverseUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export interface ConverseOutputBlock {
  text?: string;
  toolUse?: { toolUseId?: string; name?: string; input?: unknown };
  reasoningContent?: { reasoningText?: { text?: string; signature?: string }; redactedContent?: string };
}

export interface ConverseResponse {
  output?: { message?: { role?: string; content?: ConverseOutputBlock[] } };
  stopReason?: string;
  usage?: ConverseUsage;
}
