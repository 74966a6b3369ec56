/**
 * What every live case asks, whichever client asks it: a prompt a model answers in a word or two,
 * a question that needs the weather tool, the tool's result, and the limits that keep a real
 * request cheap (32 output tokens) and a slow real network from failing a case (two minutes).
 */
export const PROMPT = 'Reply with the single word: pong';
export const ASK = 'What is the weather in Paris? Use the get_weather tool.';
export const FORECAST = { location: 'Paris', forecast: 'sunny, 21 °C' };
export const MAX_TOKENS = 32;
export const LIVE_TIMEOUT_MS = 120_000;
