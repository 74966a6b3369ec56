/**
 * What the Anthropic simulator refuses in a Messages body, in Anthropic's words, so that a
 * converter's mistake fails a test as it would fail in production: roles other than user and
 * assistant (a `system` entry only with the mid-conversation-system beta), a `tool_result` that
 * answers no `tool_use` of the turn before, and a fixed thinking budget on a model that thinks
 * only adaptively (Opus 4.7 and later).
 */
import type http from 'node:http';
import { header } from './sim-common.js';

type Json = Record<string, unknown>;

const MID_CONVERSATION_SYSTEM = 'mid-conversation-system-';

function betas(req: http.IncomingMessage): string[] {
  return (header(req.headers, 'anthropic-beta') ?? '').split(',').map((b) => b.trim());
}

function blocks(m: Json): Json[] {
  return Array.isArray(m.content) ? (m.content as Json[]) : [];
}

function roleProblem(messages: Json[], req: http.IncomingMessage): string | undefined {
  const systemAllowed = betas(req).some((b) => b.startsWith(MID_CONVERSATION_SYSTEM));
  const i = messages.findIndex(
    (m) => m.role !== 'user' && m.role !== 'assistant' && !(systemAllowed && m.role === 'system'),
  );
  return i < 0 ? undefined : `messages.${i}.role: Input should be 'user' or 'assistant'`;
}

/** Each tool_result must answer a tool_use of the previous (non-system) turn. */
function toolResultProblem(messages: Json[]): string | undefined {
  let previous: Json | undefined;
  for (const [i, m] of messages.entries()) {
    if (m.role === 'system') continue;
    const offered = new Set(
      (previous?.role === 'assistant' ? blocks(previous) : [])
        .filter((b) => b.type === 'tool_use')
        .map((b) => b.id),
    );
    for (const [j, b] of blocks(m).entries()) {
      if (b.type !== 'tool_result' || offered.has(b.tool_use_id)) continue;
      return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(b.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
    }
    previous = m;
  }
  return undefined;
}

/** Claude Opus 4.7 and later (and every 5.x family) take only adaptive thinking. */
function adaptiveOnly(model: string): boolean {
  const m = /claude-[a-z]+-(\d+)(?:-(\d{1,2})(?!\d))?/.exec(model);
  if (!m) return false;
  const major = Number(m[1]);
  const minor = m[2] === undefined ? 0 : Number(m[2]);
  return major >= 5 || (major === 4 && minor >= 7 && model.includes('opus'));
}

function thinkingProblem(body: Json): string | undefined {
  const thinking = body.thinking as Json | undefined;
  if (thinking?.type !== 'enabled' || !adaptiveOnly(String(body.model))) return undefined;
  return '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.';
}

export function messagesProblem(body: Json, req: http.IncomingMessage): string | undefined {
  const messages = body.messages as Json[];
  return roleProblem(messages, req) ?? toolResultProblem(messages) ?? thinkingProblem(body);
}
