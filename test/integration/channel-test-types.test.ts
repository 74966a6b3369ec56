/**
 * `bc channel test` (the control route behind it) works for every channel type: one minimal
 * request through the type's adapter to its simulator reports success with a latency, and a
 * channel whose key the upstream refuses reports the upstream's status and error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim } from '../support/sim/openai-sim.js';
import { startAnthropicSim } from '../support/sim/anthropic-sim.js';
import { startGeminiSim } from '../support/sim/gemini-sim.js';
import { startAzureSim } from '../support/sim/azure-sim.js';
import { BEDROCK_SIM_CREDENTIALS, startBedrockSim } from '../support/sim/bedrock-sim.js';
import type { ChannelInput, ChannelTestResult } from '../../src/shared/control-api.js';

const GOOD = 'sk-good-key-0000000000';
let gw: TestGateway;
const closers: (() => Promise<void>)[] = [];
const channels: { type: string; good: ChannelInput; bad: ChannelInput }[] = [];

beforeAll(async () => {
  gw = await startGateway();
  const oa = await startOpenAISim({ keys: [GOOD] });
  const qw = await startOpenAISim({ keys: [GOOD], flavour: 'qwen' });
  const an = await startAnthropicSim({ apiKey: GOOD });
  const ge = await startGeminiSim({ keys: [GOOD] });
  const az = await startAzureSim({ keys: [GOOD] });
  const br = await startBedrockSim();
  for (const s of [oa, qw, an, ge, az, br]) closers.push(() => s.close());
  const bedrockKey = `${BEDROCK_SIM_CREDENTIALS.accessKeyId}:${BEDROCK_SIM_CREDENTIALS.secretAccessKey}`;
  const pair = (type: ChannelInput['type'], base: ChannelInput, good: string, bad: string): void => {
    channels.push({
      type: type!,
      good: { ...base, type, name: `${type}-good`, keys: [good] },
      bad: { ...base, type, name: `${type}-bad`, keys: [bad] },
    });
  };
  pair('openai', { models: ['gpt-4o-mini'], base_url: oa.url }, GOOD, 'sk-leakcheck-0000000');
  pair('qwen', { models: ['qwen-plus'], base_url: qw.url }, GOOD, 'sk-leakcheck-0000000');
  pair('anthropic', { models: ['claude-sonnet-4-5'], base_url: an.url }, GOOD, 'sk-leakcheck-0000000');
  pair('gemini', { models: ['gemini-2.5-flash'], base_url: ge.url }, GOOD, 'leakcheck-key-00000');
  pair(
    'azure',
    { models: ['gpt-4o'], map: { 'gpt-4o': 'dep-4o' }, base_url: az.url, api_version: '2024-10-21' },
    GOOD,
    'leakcheck-key-0000',
  );
  pair(
    'bedrock',
    { models: ['anthropic.claude-3-7-sonnet-20250219-v1:0'], base_url: br.url, region: br.region },
    bedrockKey,
    `${BEDROCK_SIM_CREDENTIALS.accessKeyId}:leakchecksecret0000`,
  );
  for (const c of channels) {
    await gw.addChannel(c.good);
    await gw.addChannel(c.bad);
  }
});

afterAll(async () => {
  await gw?.close();
  await Promise.all(closers.map((c) => c()));
});

describe('channel test for every type', () => {
  it.each(['openai', 'qwen', 'anthropic', 'gemini', 'azure', 'bedrock'])(
    '%s: passes with a good key, reports the upstream error with a bad one',
    async (type) => {
      const good = await gw.call<ChannelTestResult>('POST', `/v1/channels/${type}-good/test`, {});
      expect(good.ok, good.error ?? '').toBe(true);
      expect(good.status).toBe(200);
      expect(good.latency_ms).toBeGreaterThanOrEqual(0);
      const bad = await gw.call<ChannelTestResult>('POST', `/v1/channels/${type}-bad/test`, {});
      expect(bad.ok).toBe(false);
      expect([400, 401, 403]).toContain(bad.status);
      expect(bad.error).toBeTruthy();
      expect(bad.error).not.toContain('leakcheck');
    },
  );
});
