/**
 * OpenAI Chat Completions wire types: the gateway's canonical request/response shape. Every
 * adapter converts to and from these (PROTOCOLS.md section 1). Unknown extra fields are allowed
 * and, on passthrough, forwarded untouched.
 */

export interface OpenAITextPart {
  type: 'text';
  text: string;
}
export interface OpenAIImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}
export interface OpenAIOtherPart {
  type: 'input_audio' | 'file';
  [k: string]: unknown;
}
export type OpenAIContentPart = OpenAITextPart | OpenAIImagePart | OpenAIOtherPart;

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type OpenAIMessage =
  | { role: 'system' | 'developer'; content: string | OpenAITextPart[]; name?: string }
  | { role: 'user'; content: string | OpenAIContentPart[]; name?: string }
  | {
      role: 'assistant';
      content?: string | OpenAITextPart[] | null;
      tool_calls?: OpenAIToolCall[];
      refusal?: string | null;
      /** non-standard but common (DeepSeek, Qwen, xAI); carried to thinking-capable upstreams */
      reasoning_content?: string | null;
      name?: string;
    }
  | { role: 'tool'; tool_call_id: string; content: string | OpenAITextPart[] };

export interface OpenAITool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export type OpenAIToolChoice =
  'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export type OpenAIResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string };
    };

export interface OpenAIChatRequest {
  model: string;
  messages: OpenAIMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  n?: number | null;
  tools?: OpenAITool[];
  tool_choice?: OpenAIToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: OpenAIResponseFormat;
  reasoning_effort?: 'minimal' | 'low' | 'medium' | 'high' | null;
  seed?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  user?: string;
  [extra: string]: unknown;
}

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; audio_tokens?: number; [k: string]: unknown };
  completion_tokens_details?: { reasoning_tokens?: number; [k: string]: unknown };
  [k: string]: unknown;
}

export interface OpenAIChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      tool_calls?: OpenAIToolCall[];
      reasoning_content?: string;
      refusal?: string | null;
    };
    finish_reason: OpenAIFinishReason | null;
    logprobs?: unknown;
  }[];
  usage?: OpenAIUsage;
  [k: string]: unknown;
}

export interface OpenAIChunkToolCall {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface OpenAIChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      reasoning_content?: string;
      tool_calls?: OpenAIChunkToolCall[];
      refusal?: string | null;
    };
    finish_reason: OpenAIFinishReason | null;
    logprobs?: unknown;
  }[];
  usage?: OpenAIUsage | null;
  [k: string]: unknown;
}
