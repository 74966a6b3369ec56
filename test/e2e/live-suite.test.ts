/**
 * The live suite proves itself here, without real accounts: the live runner (vitest with
 * test/live/vitest.config.ts, what `npm run test:live` runs after building) is spawned with every
 * provider's BC_LIVE_<P>_BASE_URL pointing at a simulator on loopback and a made-up key each
 * simulator insists on. It must run every provider and pass, each simulator must have served its
 * provider's requests with its own key, and no key may appear in the output. A provider whose
 * upstream refuses its key must fail the run and be named as failing; a run with no key at all
 * fails naming the variables to set, unless BC_LIVE_ALLOW_NONE=1.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { startAnthropicSim, type AnthropicSim } from '../support/sim/anthropic-sim.js';
import { startGeminiSim, type GeminiSim } from '../support/sim/gemini-sim.js';
import { startAzureSim, type AzureSim } from '../support/sim/azure-sim.js';
import { startBedrockSim, type BedrockSim } from '../support/sim/bedrock-sim.js';
import type { SimCall } from '../support/sim/sim-common.js';
import { envName, PROVIDERS } from '../live/providers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
const OPENAI_COMPATIBLE = ['openai', 'deepseek', 'mistral', 'groq', 'xai', 'openrouter'];
const DEPLOYMENT = 'live-deployment';

const fake = (name: string): string => `sk-fake-${name}-${randomBytes(12).toString('hex')}`;
const KEYS = Object.fromEntries(PROVIDERS.map((p) => [p.name, fake(p.name)])) as Record<string, string>;
const BEDROCK = {
  accessKeyId: `AKIALIVE${randomBytes(6).toString('hex').toUpperCase()}`,
  secretAccessKey: fake('aws'),
};
KEYS.bedrock = `${BEDROCK.accessKeyId}:${BEDROCK.secretAccessKey}`;

let oa: OpenAISim;
let qwen: OpenAISim;
let an: AnthropicSim;
let ge: GeminiSim;
let az: AzureSim;
let br: BedrockSim;
/** BC_LIVE_* for every provider, each at its simulator */
let simEnv: Record<string, string>;

beforeAll(async () => {
  [oa, qwen, an, ge, az, br] = await Promise.all([
    startOpenAISim({ keys: OPENAI_COMPATIBLE.map((p) => KEYS[p]!) }),
    startOpenAISim({ flavour: 'qwen', keys: [KEYS.qwen!] }),
    startAnthropicSim({ apiKey: KEYS.anthropic! }),
    startGeminiSim({ keys: [KEYS.gemini!] }),
    startAzureSim({ keys: [KEYS.azure!], deployments: [DEPLOYMENT] }),
    startBedrockSim({ credentials: [BEDROCK], region: 'eu-central-1' }),
  ]);
  const urls: Record<string, string> = { qwen: qwen.url, anthropic: an.url, gemini: ge.url, azure: az.url };
  urls.bedrock = br.url;
  for (const p of OPENAI_COMPATIBLE) urls[p] = oa.url;
  simEnv = {
    [envName('azure', 'DEPLOYMENT')]: DEPLOYMENT,
    [envName('bedrock', 'REGION')]: br.region,
  };
  for (const p of PROVIDERS) {
    simEnv[envName(p.name, 'KEY')] = KEYS[p.name]!;
    simEnv[envName(p.name, 'BASE_URL')] = urls[p.name]!;
  }
});

afterAll(async () => {
  await Promise.all([oa, qwen, an, ge, az, br].map((s) => s?.close()));
});

interface Run {
  code: number;
  out: string;
  summary: string;
}

/** The live runner with only `env` of the BC_LIVE_* variables (none of this process's BC_* or vitest's own). */
function runLive(env: Record<string, string>): Promise<Run> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('BC_') && !k.startsWith('VITEST') && k !== 'NODE_ENV') base[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITEST, 'run', '--config', 'test/live/vitest.config.ts'], {
      cwd: ROOT,
      env: { ...base, ...env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const summary = /^live: ran .*$/m.exec(out)?.[0] ?? '';
      resolve({ code: code ?? -1, out, summary });
    });
  });
}

/** How many cases the suite has for a provider. */
const caseCount = (name: string): number =>
  PROVIDERS.find((p) => p.name === name)!.fronts.reduce((n, f) => n + f.cases.length, 0);

const auth = (c: SimCall): string =>
  String(
    c.headers.authorization ?? c.headers['x-api-key'] ?? c.headers['api-key'] ?? c.headers['x-goog-api-key'],
  );

describe('npm run test:live against the simulators', () => {
  it('runs every provider, each against its simulator with its own key, and all pass', async () => {
    const run = await runLive(simEnv);
    expect(run.code, run.out).toBe(0);
    const ran = PROVIDERS.map((p) => `${p.name} (${caseCount(p.name)} passed)`).join(', ');
    expect(run.summary).toBe(`live: ran ${ran}; skipped none`);
    for (const secret of [...Object.values(KEYS), BEDROCK.secretAccessKey])
      expect(run.out).not.toContain(secret);
    // every OpenAI-compatible provider reached the shared simulator with its own key and model
    for (const name of OPENAI_COMPATIBLE) {
      const mine = oa.calls.filter((c) => auth(c) === `Bearer ${KEYS[name]}`);
      const spec = PROVIDERS.find((p) => p.name === name)!;
      expect(mine.length, name).toBeGreaterThanOrEqual(caseCount(name));
      for (const c of mine)
        expect(JSON.parse(c.body.toString('utf8'))).toMatchObject({ model: spec.defaultModel });
    }
    expect(qwen.calls.length).toBeGreaterThanOrEqual(caseCount('qwen'));
    expect(an.calls.filter((c) => auth(c) === KEYS.anthropic).length).toBeGreaterThanOrEqual(
      caseCount('anthropic'),
    );
    expect(ge.calls.length).toBeGreaterThanOrEqual(caseCount('gemini'));
    expect(az.calls.every((c) => c.path.startsWith(`/openai/deployments/${DEPLOYMENT}/`))).toBe(true);
    expect(az.calls.length).toBeGreaterThanOrEqual(caseCount('azure'));
    expect(br.calls.length).toBeGreaterThanOrEqual(caseCount('bedrock'));
  }, 300_000);

  it('fails the run and names the provider whose upstream refuses its key', async () => {
    const env: Record<string, string> = {};
    for (const name of ['openai', 'anthropic']) {
      for (const s of ['KEY', 'BASE_URL']) env[envName(name, s)] = simEnv[envName(name, s)]!;
    }
    env[envName('anthropic', 'KEY')] = fake('refused');
    const run = await runLive(env);
    expect(run.code, run.out).not.toBe(0);
    expect(run.summary).toMatch(
      new RegExp(
        `^live: ran openai \\(${caseCount('openai')} passed\\), anthropic \\(0 passed, ${caseCount('anthropic')} failed\\); skipped gemini \\(set BC_LIVE_GEMINI_KEY\\), `,
      ),
    );
    expect(run.out).not.toContain(env[envName('anthropic', 'KEY')]);
  }, 300_000);

  it('with no key: fails naming what to set, unless BC_LIVE_ALLOW_NONE=1', async () => {
    const none = await runLive({});
    expect(none.code).not.toBe(0);
    expect(none.summary).toMatch(/^live: ran none; skipped openai \(set BC_LIVE_OPENAI_KEY\), /);
    expect(none.summary).toContain('azure (set BC_LIVE_AZURE_KEY, BC_LIVE_AZURE_BASE_URL)');
    expect(none.out).toContain('live: no provider ran');
    const allowed = await runLive({ BC_LIVE_ALLOW_NONE: '1' });
    expect(allowed.code, allowed.out).toBe(0);
    expect(allowed.summary).toBe(none.summary);
  }, 180_000);
});
