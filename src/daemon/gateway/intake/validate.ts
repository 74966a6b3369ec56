/**
 * Field checks for OpenAI-shaped request bodies: wrong types are answered 400 naming the field,
 * before any upstream sees them. Only what the gateway itself relies on, or what would make every
 * upstream fail, is checked, and never more strictly than OpenAI checks it; everything else is
 * the upstream's business.
 */
import { BcError } from '../../../shared/errors.js';

type Check = (v: unknown) => boolean;

const isString: Check = (v) => typeof v === 'string';
const isBool: Check = (v) => typeof v === 'boolean';
const isNumber: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isPosInt: Check = (v) => Number.isInteger(v) && (v as number) > 0;
const isObject: Check = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isArray: Check = (v) => Array.isArray(v);
const isStop: Check = (v) =>
  typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string'));

/** Field checks as a list built once (no Object.entries per request): field, check, what it must be. */
export type FieldChecks = readonly (readonly [string, Check, string])[];

function fieldChecks(table: Record<string, [Check, string]>): FieldChecks {
  return Object.entries(table).map(([field, [check, what]]) => [field, check, what] as const);
}

const CHAT_FIELDS = fieldChecks({
  stream: [isBool, 'a boolean'],
  stream_options: [isObject, 'an object'],
  max_tokens: [isPosInt, 'a positive integer'],
  max_completion_tokens: [isPosInt, 'a positive integer'],
  temperature: [isNumber, 'a number'],
  top_p: [isNumber, 'a number'],
  n: [isPosInt, 'a positive integer'],
  stop: [isStop, 'a string or an array of strings'],
  tools: [isArray, 'an array'],
  response_format: [isObject, 'an object'],
  seed: [(v) => Number.isInteger(v), 'an integer'],
  user: [isString, 'a string'],
});

function fail(field: string, what: string): never {
  throw new BcError('INVALID_REQUEST', `${field} must be ${what}`, { param: field });
}

export function requireModel(body: Record<string, unknown>): string {
  const m = body.model;
  if (typeof m !== 'string' || m.trim().length === 0) fail('model', 'a non-empty string');
  return m;
}

/** OpenAI's answer to a required field left out, in its words. */
function missing(param: string): never {
  throw new BcError('INVALID_REQUEST', `Missing required parameter: '${param}'.`, { param });
}

type Json = Record<string, unknown>;

/** A function tool or tool call names its function (a call also carries its arguments). */
function checkFunction(v: unknown, at: string, call: boolean): void {
  if (!isObject(v) || (v as Json).type !== 'function') return;
  const fn = (v as Json).function;
  if (!isObject(fn)) missing(`${at}.function`);
  if (typeof (fn as Json).name !== 'string') missing(`${at}.function.name`);
  if (call && typeof (fn as Json).arguments !== 'string') missing(`${at}.function.arguments`);
}

function checkMessage(m: unknown, i: number): void {
  if (!isObject(m)) fail(`messages[${i}]`, 'an object');
  const { role, content, tool_calls: calls, tool_call_id: callId } = m as Json;
  if (typeof role !== 'string') fail(`messages[${i}].role`, 'a string');
  if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
    fail(`messages[${i}].content`, 'a string or an array of content parts');
  }
  if (role === 'tool' && typeof callId !== 'string') missing(`messages[${i}].tool_call_id`);
  if (Array.isArray(calls))
    calls.forEach((c, j) => checkFunction(c, `messages[${i}].tool_calls[${j}]`, true));
}

/**
 * Checks an OpenAI chat completion request; returns the model. Beyond types, only what OpenAI
 * itself refuses and the converters rely on: a function tool or tool call without its function
 * (or a call without arguments), a tool message without tool_call_id. New roles, content part
 * types, message fields and top-level arguments are left to the upstream.
 */
export function validateChat(body: Record<string, unknown>): string {
  const model = requireModel(body);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) fail('messages', 'a non-empty array');
  messages.forEach(checkMessage);
  checkFields(body, CHAT_FIELDS);
  if (Array.isArray(body.tools)) body.tools.forEach((t, i) => checkFunction(t, `tools[${i}]`, false));
  return model;
}

export function checkFields(body: Record<string, unknown>, fields: FieldChecks): void {
  for (const [field, check, what] of fields) {
    const v = body[field];
    if (v !== undefined && v !== null && !check(v)) fail(field, what);
  }
}

export const STREAM_FIELD = fieldChecks({ stream: [isBool, 'a boolean'] });
