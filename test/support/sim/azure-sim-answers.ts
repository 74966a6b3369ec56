/**
 * What the Azure OpenAI simulator answers, shaped like `fixtures/azure/`: OpenAI's chat answers
 * (planned by the OpenAI simulator) plus Azure's content-safety annotations, the opening
 * empty-choices filter chunk of a stream, and Azure's error bodies (code "429", content_filter
 * with its innererror, DeploymentNotFound).
 */
import type { ChatPlan } from './openai-sim-chat.js';
import { argFragments, chatCompletionBody, usageOf } from './openai-sim-chat.js';

type Json = Record<string, unknown>;

const SAFE = { filtered: false, severity: 'safe' };
const CONTENT_FILTER = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
const PROMPT_FILTER = [
  {
    prompt_index: 0,
    content_filter_results: { ...CONTENT_FILTER, jailbreak: { filtered: false, detected: false } },
  },
];

export const AZURE_CONTENT_FILTER_BODY: Json = {
  error: {
    message:
      "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
    type: null,
    param: 'prompt',
    code: 'content_filter',
    status: 400,
    innererror: {
      code: 'ResponsibleAIPolicyViolation',
      content_filter_result: { ...CONTENT_FILTER, violence: { filtered: true, severity: 'high' } },
    },
  },
};

export const AZURE_429_BODY: Json = {
  error: {
    code: '429',
    message:
      'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second.',
  },
};

export const STATUS_BODIES: Record<number, Json> = {
  400: AZURE_CONTENT_FILTER_BODY,
  401: {
    error: {
      code: '401',
      message:
        'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
    },
  },
  404: {
    error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' },
  },
  429: AZURE_429_BODY,
  500: {
    error: { code: 'InternalServerError', message: 'The server had an error while processing your request.' },
  },
  503: {
    error: {
      code: 'ServiceUnavailable',
      message: 'The service is temporarily unable to process your request.',
    },
  },
};

export function frame(obj: Json): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}

/** Azure's chunks: the opening filter chunk, then OpenAI's with filter results on each choice. */
export function streamFrames(plan: ChatPlan, withUsage: boolean, filterOutput: boolean): string[] {
  const envelope = { created: plan.created, id: plan.id, model: plan.model, object: 'chat.completion.chunk' };
  const chunk = (delta: Json, finish: string | null = null, filters: Json = {}): string =>
    frame({
      choices: [{ content_filter_results: filters, delta, finish_reason: finish, index: 0, logprobs: null }],
      ...envelope,
      system_fingerprint: null,
      ...(withUsage ? { usage: null } : {}),
    });
  const frames = [
    frame({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: PROMPT_FILTER }),
  ];
  frames.push(chunk({ content: plan.tools.length > 0 ? null : '', refusal: null, role: 'assistant' }));
  plan.tools.forEach((t, index) => {
    frames.push(
      chunk({
        tool_calls: [{ index, id: t.id, type: 'function', function: { name: t.name, arguments: '' } }],
      }),
    );
    for (const args of argFragments(t.args))
      frames.push(chunk({ tool_calls: [{ index, function: { arguments: args } }] }));
  });
  for (const c of plan.content) frames.push(chunk({ content: c }, null, CONTENT_FILTER));
  frames.push(chunk({}, filterOutput ? 'content_filter' : plan.finish));
  if (withUsage)
    frames.push(
      frame({ choices: [], ...envelope, system_fingerprint: null, usage: usageOf(plan, 'openai') }),
    );
  frames.push('data: [DONE]\n\n');
  return frames;
}

export function completionBody(plan: ChatPlan, filterOutput: boolean): Json {
  const body = chatCompletionBody(plan, 'openai');
  const choices = (body.choices as Json[]).map((c) => ({
    ...c,
    content_filter_results: CONTENT_FILTER,
    ...(filterOutput ? { finish_reason: 'content_filter' } : {}),
  }));
  return { ...body, choices, prompt_filter_results: PROMPT_FILTER, system_fingerprint: null };
}
