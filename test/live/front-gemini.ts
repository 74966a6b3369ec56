/**
 * The live cases through the official `@google/genai` client on the gateway's Gemini routes
 * (`:generateContent`, `:streamGenerateContent`): a short answer, the same streamed (usage from
 * the last chunk that carries it), and a tool round trip (mode ANY on get_weather, then the turn
 * carrying the model's call and its functionResponse). Thinking is off (budget 0), so the 32
 * output tokens go to the answer; a model that cannot turn thinking off refuses that.
 */
import {
  FunctionCallingConfigMode,
  GoogleGenAI,
  Type,
  type Content,
  type FunctionDeclaration,
  type GenerateContentConfig,
  type GenerateContentResponseUsageMetadata,
} from '@google/genai';
import { ASK, FORECAST, LIVE_TIMEOUT_MS, MAX_TOKENS, PROMPT } from './prompts.js';
import { fromGemini, type Answer, type FrontClient, type ToolRoundTrip } from './usage.js';

const WEATHER: FunctionDeclaration = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: Type.OBJECT, properties: { location: { type: Type.STRING } }, required: ['location'] },
};

const BASE: GenerateContentConfig = { maxOutputTokens: MAX_TOKENS, thinkingConfig: { thinkingBudget: 0 } };
const TOOLS: GenerateContentConfig = { ...BASE, tools: [{ functionDeclarations: [WEATHER] }] };

export function geminiFront(gatewayUrl: string, key: string): FrontClient {
  const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: gatewayUrl, timeout: LIVE_TIMEOUT_MS } });

  return {
    async text(model): Promise<Answer> {
      const res = await ai.models.generateContent({ model, contents: PROMPT, config: BASE });
      return { text: res.text ?? '', usage: fromGemini(res.usageMetadata), pieces: 1 };
    },

    async stream(model): Promise<Answer> {
      let text = '';
      let pieces = 0;
      let usage: GenerateContentResponseUsageMetadata | undefined;
      for await (const chunk of await ai.models.generateContentStream({
        model,
        contents: PROMPT,
        config: BASE,
      })) {
        pieces += 1;
        text += chunk.text ?? '';
        if (chunk.usageMetadata) usage = chunk.usageMetadata;
      }
      return { text, usage: fromGemini(usage), pieces };
    },

    async tools(model): Promise<ToolRoundTrip> {
      const contents: Content[] = [{ role: 'user', parts: [{ text: ASK }] }];
      const first = await ai.models.generateContent({
        model,
        contents,
        config: {
          ...TOOLS,
          toolConfig: {
            functionCallingConfig: {
              mode: FunctionCallingConfigMode.ANY,
              allowedFunctionNames: ['get_weather'],
            },
          },
        },
      });
      const call = first.functionCalls?.[0];
      const turn = first.candidates?.[0]?.content;
      if (call?.name === undefined || turn === undefined)
        throw new Error(`no function call in ${JSON.stringify(first.candidates)}`);
      const second = await ai.models.generateContent({
        model,
        config: TOOLS,
        contents: [
          ...contents,
          // the model's turn as it came (its thought signature included), then the result
          turn,
          { role: 'user', parts: [{ functionResponse: { name: call.name, response: FORECAST } }] },
        ],
      });
      return {
        call: { name: call.name, args: call.args ?? {} },
        first: fromGemini(first.usageMetadata),
        answer: { text: second.text ?? '', usage: fromGemini(second.usageMetadata), pieces: 1 },
      };
    },
  };
}
