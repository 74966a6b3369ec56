// The request bodies every load generator sends: a ~1 KB chat request (system prompt, a short
// history, a question), OpenAI-shaped, as JSON or stream (with include_usage, as metering clients
// ask), and the same conversation Anthropic-shaped for the direct baseline of scenario F.
const SYSTEM =
  'You are a concise assistant for an engineering team. Answer in plain English, prefer short ' +
  'sentences, cite the file and function when you talk about code, and say so when unsure. ' +
  'Never invent APIs; when a question is ambiguous ask one clarifying question first.';
const HISTORY = [
  ['user', 'We run a gateway in front of several model providers. Requests come in on one port.'],
  ['assistant', 'Understood. What would you like to know about the gateway and its providers?'],
  ['user', 'How should we measure what the gateway adds to latency compared with calling directly?'],
  ['assistant', 'Run the same load at the upstream directly and through the gateway in one run.'],
];
const QUESTION =
  'Given a simulated upstream with a fixed delay, which percentiles should we report, and why ' +
  'would the p99 at one connection swing between runs on a shared two-core machine? Keep it short.';

function messages() {
  return [...HISTORY.map(([role, content]) => ({ role, content })), { role: 'user', content: QUESTION }];
}

export function openaiBody(model, stream = false) {
  const body = {
    model,
    messages: [{ role: 'system', content: SYSTEM }, ...messages()],
    max_tokens: 128,
    temperature: 0.2,
  };
  if (stream) Object.assign(body, { stream: true, stream_options: { include_usage: true } });
  return JSON.stringify(body);
}

export function anthropicBody(model, stream = false) {
  const body = { model, system: SYSTEM, messages: messages(), max_tokens: 128, temperature: 0.2 };
  if (stream) body.stream = true;
  return JSON.stringify(body);
}
