/**
 * The providers the adapter contract suite runs over, one harness each (see adapter-harness.ts):
 * OpenAI, Qwen (the OpenAI simulator's DashScope flavour), Azure, Anthropic, Gemini and Bedrock.
 * Where a provider differs, the difference lives here: Azure's deployment in the path and its
 * `retry-after-ms`, Gemini's missing tool call ids, its RetryInfo delay and its API_KEY_INVALID
 * 400, Bedrock's SigV4 secret and binary event stream, Anthropic's `event: error` fault. The
 * expected values are the simulators' own: their answer texts (Anthropic's is the recording's),
 * their token formulas over the body they received, their sample tool arguments.
 */
import { anthropicAdapter } from '../../src/daemon/providers/anthropic/index.js';
import { azureAdapter } from '../../src/daemon/providers/azure/index.js';
import { bedrockAdapter } from '../../src/daemon/providers/bedrock/index.js';
import { geminiAdapter } from '../../src/daemon/providers/gemini/index.js';
import { openaiAdapter } from '../../src/daemon/providers/openai/index.js';
import { UpstreamStreamError } from '../../src/daemon/providers/types.js';
import type { AdapterHarness, ContractFault, ContractSim, Json } from './adapter-harness.js';
import { contractSim, eventStreamDecoder, sseDecoder } from './adapter-harness.js';
import { readFixtureJson } from './fixtures.js';
import type { AnthropicFault } from './sim/anthropic-sim.js';
import { simInputTokens, startAnthropicSim } from './sim/anthropic-sim.js';
import { startAzureSim } from './sim/azure-sim.js';
import type { BedrockFault } from './sim/bedrock-sim.js';
import { BEDROCK_SIM_CREDENTIALS, DEFAULT_BEDROCK_SIM_TEXT, startBedrockSim } from './sim/bedrock-sim.js';
import { geminiErrorJson } from './sim/gemini-sim-answers.js';
import { startGeminiSim } from './sim/gemini-sim.js';
import { DEFAULT_SIM_TEXT, simPromptTokens } from './sim/openai-sim-chat.js';
import type { Flavour } from './sim/openai-sim-chat.js';
import { startOpenAISim } from './sim/openai-sim.js';
import type { Fault } from './sim/sim-common.js';
import { upstreamTarget } from './upstream-target.js';

const tokens = (value: unknown): number =>
  Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(value)) / 4));

/** The generic simulators' faults (OpenAI, Azure, Gemini share sim-common's Fault). */
const GENERIC_FAULTS: Record<ContractFault, Fault> = {
  rateLimited: { kind: 'status', status: 429 },
  overloaded: { kind: 'status', status: 503 },
  invalidRequest: { kind: 'status', status: 400 },
  midStream: { kind: 'midStreamError', afterFrames: 2 },
  hangup: { kind: 'hangup', afterFrames: 2 },
  garbage: { kind: 'garbage' },
  reset: { kind: 'reset' },
};

/** The OpenAI simulator's answers: usage counts the pieces sent (4 fragments of the tool arguments). */
const OPENAI_EXPECT = {
  text: DEFAULT_SIM_TEXT,
  promptTokens: (sent: Json) => simPromptTokens(sent),
  tool: {
    // OpenAI's ids are base64url, DashScope's hex; both 24 characters after call_
    id: /^call_[\w-]{24}$/,
    arguments: '{"location":"Boston, MA"}',
    streamedArguments: '{"location":"Boston, MA"}',
    outputTokens: 4,
  },
  // the simulator's 429 sends `retry-after: 1`
  rateLimited: { status: 429, retryAfterMs: 1000 },
  overloaded: { status: 503 },
  badKey: { status: 401 },
  invalidRequest: { status: 400 },
  // the error frame names no HTTP code: the converter reports a bad gateway
  midStream: { status: 502 },
  garbage: { error: UpstreamStreamError, message: /^upstream sent an unparseable stream event/ },
};

function openaiFamily(name: string, flavour: Flavour): AdapterHarness {
  return {
    name,
    adapter: openaiAdapter,
    decoder: sseDecoder,
    streamKnobs: { 'x-sim-split-utf8': '1' },
    async start(): Promise<ContractSim> {
      const sim = await startOpenAISim({ flavour, keys: ['sk-contract'] });
      const target = (secret = 'sk-contract') =>
        upstreamTarget({ name, type: flavour, baseUrl: sim.url, timeoutMs: 5000 }, secret, 'gpt-4o-mini');
      return contractSim(sim, GENERIC_FAULTS, target, 'sk-wrong-key');
    },
    expect: OPENAI_EXPECT,
  };
}

const azure: AdapterHarness = {
  name: 'azure',
  adapter: azureAdapter,
  decoder: sseDecoder,
  streamKnobs: { 'x-sim-split-utf8': '1' },
  async start() {
    // the deployment is the upstream model, and goes in the path
    const sim = await startAzureSim({ keys: ['azure-contract'], deployments: ['prod-4o-mini'] });
    const target = (secret = 'azure-contract') =>
      upstreamTarget(
        { name: 'az', type: 'azure', baseUrl: sim.url, timeoutMs: 5000 },
        secret,
        'prod-4o-mini',
      );
    // a stream opens with Azure's empty-choices filter chunk: one frame more before the text
    const faults: Record<ContractFault, Fault> = {
      ...GENERIC_FAULTS,
      midStream: { kind: 'midStreamError', afterFrames: 3 },
      hangup: { kind: 'hangup', afterFrames: 3 },
    };
    return contractSim(sim, faults, target, 'azure-wrong-key');
  },
  // Azure's 429 sends `retry-after-ms: 1000` beside `retry-after: 1`; its 400 is a content filter
  expect: OPENAI_EXPECT,
};

const ANTHROPIC_FAULTS: Record<ContractFault, AnthropicFault> = {
  rateLimited: { kind: 'status', status: 429 },
  overloaded: { kind: 'status', status: 529 },
  invalidRequest: { kind: 'status', status: 400 },
  // message_start, content_block_start, ping, then one text delta before the fault
  midStream: { kind: 'streamError', afterFrames: 4 },
  hangup: { kind: 'hangup', afterFrames: 4 },
  garbage: { kind: 'garbage' },
  reset: { kind: 'reset' },
};

const anthropic: AdapterHarness = {
  name: 'anthropic',
  adapter: anthropicAdapter,
  decoder: sseDecoder,
  streamKnobs: { 'x-sim-split-utf8': '1' },
  async start() {
    const sim = await startAnthropicSim({ apiKey: 'sk-ant-contract' });
    const target = (secret = 'sk-ant-contract') =>
      upstreamTarget(
        { name: 'an', type: 'anthropic', baseUrl: sim.url, timeoutMs: 5000 },
        secret,
        'claude-sim',
      );
    return contractSim(sim, ANTHROPIC_FAULTS, target, 'sk-ant-wrong');
  },
  expect: {
    text: readFixtureJson<{ content: { text: string }[] }>('anthropic/messages-nonstream-text.json')
      .content[0]?.text as string,
    promptTokens: (sent) => simInputTokens(sent),
    tool: {
      id: /^toolu_sim[0-9a-f]{16}$/,
      arguments: '{"location":"San Francisco"}',
      // the recording's own deltas, spacing and all
      streamedArguments: '{"location": "San Francisco"}',
      outputTokens: 3,
    },
    rateLimited: { status: 429, retryAfterMs: 1000 },
    overloaded: { status: 529 },
    badKey: { status: 401 },
    invalidRequest: { status: 400 },
    // the simulator's `event: error` is overloaded_error, which Anthropic sends as 529
    midStream: { status: 529 },
    garbage: { error: UpstreamStreamError, message: /^anthropic: unreadable stream event/ },
  },
};

const gemini: AdapterHarness = {
  name: 'gemini',
  adapter: geminiAdapter,
  decoder: sseDecoder,
  streamKnobs: { 'x-sim-split-utf8': '1' },
  async start() {
    const sim = await startGeminiSim({ keys: ['AIza-contract'] });
    const target = (secret = 'AIza-contract') =>
      upstreamTarget(
        { name: 'ge', type: 'gemini', baseUrl: sim.url, timeoutMs: 5000 },
        secret,
        'gemini-2.5-flash',
      );
    return contractSim(
      sim,
      {
        ...GENERIC_FAULTS,
        // the simulator's plain 400 is API_KEY_INVALID (a key problem); a bad request names no reason
        invalidRequest: {
          kind: 'status',
          status: 400,
          body: geminiErrorJson(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name "x".'),
        },
      },
      target,
      'AIza-wrong',
    );
  },
  expect: {
    text: DEFAULT_SIM_TEXT,
    promptTokens: (sent) => tokens([sent.systemInstruction ?? null, sent.contents ?? []]),
    tool: {
      // Gemini's function calls carry no id: the adapter makes one
      id: /^call_[0-9a-f]{24}$/,
      arguments: '{"location":"San Francisco"}',
      streamedArguments: '{"location":"San Francisco"}',
      outputTokens: 1,
    },
    // RetryInfo "34.4s" in the recorded 429 body, not a header
    rateLimited: { status: 429, retryAfterMs: 34_400 },
    overloaded: { status: 503 },
    // a bad key is 400 INVALID_ARGUMENT with reason API_KEY_INVALID
    badKey: { status: 400 },
    invalidRequest: { status: 400 },
    midStream: { status: 500 },
    garbage: { error: UpstreamStreamError, message: /^gemini: malformed stream event \(not JSON\)$/ },
  },
};

const { accessKeyId, secretAccessKey } = BEDROCK_SIM_CREDENTIALS;
const BEDROCK_FAULTS: Record<ContractFault, BedrockFault> = {
  // Bedrock's own 429 sends no Retry-After; one is added to check the adapter reads it when sent
  rateLimited: { kind: 'status', status: 429, headers: { 'retry-after': '2' } },
  overloaded: { kind: 'status', status: 503 },
  invalidRequest: { kind: 'status', status: 400 },
  // messageStart and one text delta, then a throttlingException frame
  midStream: { kind: 'midStreamError', afterFrames: 2 },
  hangup: { kind: 'hangup', afterFrames: 2 },
  garbage: { kind: 'garbage' },
  reset: { kind: 'reset' },
};

const bedrock: AdapterHarness = {
  name: 'bedrock',
  adapter: bedrockAdapter,
  decoder: eventStreamDecoder,
  streamKnobs: {},
  async start() {
    const sim = await startBedrockSim();
    // the secret is an access key id and secret: the adapter signs with SigV4, the sim verifies
    const target = (secret = `${accessKeyId}:${secretAccessKey}`) =>
      upstreamTarget(
        { name: 'br', type: 'bedrock', baseUrl: sim.url, region: sim.region, timeoutMs: 5000 },
        secret,
        'us.anthropic.claude-3-5-sonnet-20241022-v2:0',
      );
    return contractSim(sim, BEDROCK_FAULTS, target, `AKIAUNKNOWN:${secretAccessKey}`);
  },
  expect: {
    text: DEFAULT_BEDROCK_SIM_TEXT,
    promptTokens: (sent) => Math.ceil(Buffer.byteLength(JSON.stringify(sent.messages)) / 4),
    tool: {
      id: /^tooluse_[\w-]{22}$/,
      arguments: '{"location":"Paris"}',
      streamedArguments: '{"location":"Paris"}',
      outputTokens: 2,
    },
    rateLimited: { status: 429, retryAfterMs: 2000 },
    overloaded: { status: 503 },
    // an unknown access key id: 403 UnrecognizedClientException
    badKey: { status: 403 },
    invalidRequest: { status: 400 },
    // throttlingException, which AWS documents as 429
    midStream: { status: 429 },
    garbage: { error: Error, message: /CRC mismatch/ },
  },
};

export const ADAPTER_HARNESSES: readonly AdapterHarness[] = [
  openaiFamily('openai', 'openai'),
  openaiFamily('qwen', 'qwen'),
  azure,
  anthropic,
  gemini,
  bedrock,
];
