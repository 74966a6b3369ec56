/**
 * The live suite (`npm run test:live`): a few of the contract cases through a real daemon against
 * the real providers whose keys are in the environment (test/live/providers.ts says which variables).
 * Per provider, through its native client and one other: a short answer, a stream, a forced tool
 * call and the turn carrying its result; for every request the log row must be the one billing
 * reads: this channel, the alias and upstream model, status 200, the upstream's own usage (not an
 * estimate) equal to what the client reported, and the cost those tokens make at the listed price.
 * Providers without a key are skipped here and named in the summary line the reporter prints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRow } from '../../src/shared/control-api.js';
import { startLiveGateway, type LiveGateway } from './gateway.js';
import { PROVIDERS, selectProviders, type CaseKind, type Front, type LiveProvider } from './providers.js';
import { anthropicFront } from './front-anthropic.js';
import { geminiFront } from './front-gemini.js';
import { openaiFront } from './front-openai.js';
import { billedOf, expectedCost, priceOf, type ClientUsage, type FrontClient } from './usage.js';

const selection = selectProviders(process.env);
let gateway: LiveGateway | undefined;

beforeAll(async () => {
  if (selection.ran.length > 0) gateway = await startLiveGateway(selection.ran);
}, 180_000);

afterAll(async () => {
  await gateway?.close();
});

function gw(): LiveGateway {
  if (!gateway) throw new Error('the live gateway did not start');
  return gateway;
}

function client(front: Front, p: LiveProvider): FrontClient {
  const { url, key } = gw();
  if (front === 'anthropic') return anthropicFront(url, key);
  if (front === 'gemini') return geminiFront(url, key);
  return openaiFront(url, key, p.spec.openaiExtra);
}

function endpoint(front: Front, stream: boolean): string {
  if (front === 'anthropic') return '/v1/messages';
  if (front === 'openai') return '/v1/chat/completions';
  return `/v1beta/models/{model}:${stream ? 'streamGenerateContent' : 'generateContent'}`;
}

/** The calls made since `since` left exactly these rows, each billing what its client saw. */
async function expectBilled(
  since: number,
  usages: ClientUsage[],
  p: LiveProvider,
  front: Front,
  stream: boolean,
): Promise<LogRow[]> {
  const rows = await gw().rowsAfter(since, usages.length);
  expect(
    rows.map((r) => r.status),
    'one log row per request, each a success',
  ).toEqual(usages.map(() => 200));
  const price = priceOf(gw().prices, p.alias, p.upstreamModel);
  rows.forEach((row, i) => {
    const usage = usages[i]!;
    expect(row).toMatchObject({
      channel: p.spec.name,
      model: p.alias,
      upstream_model: p.upstreamModel,
      endpoint: endpoint(front, stream),
      stream,
      usage_estimated: false,
    });
    expect(usage.input).toBeGreaterThan(0);
    expect(usage.output).toBeGreaterThan(0);
    const expected = { ...usage, cost: expectedCost(price, usage) };
    expect(billedOf(row), `the log row bills what the client saw (${JSON.stringify(expected)})`).toEqual(
      expected,
    );
  });
  return rows;
}

const CASES: Record<CaseKind, { title: string; run: (f: Front, p: LiveProvider) => Promise<void> }> = {
  text: {
    title: 'text, usage and cost equal to the log row',
    async run(front, p) {
      const since = await gw().lastLogId();
      const answer = await client(front, p).text(p.alias);
      expect(answer.text.trim(), 'the answer has no text').not.toBe('');
      await expectBilled(since, [answer.usage], p, front, false);
    },
  },
  stream: {
    title: 'stream, usage and cost equal to the log row',
    async run(front, p) {
      const since = await gw().lastLogId();
      const answer = await client(front, p).stream(p.alias);
      expect(answer.pieces).toBeGreaterThan(0);
      expect(answer.text.trim(), 'the stream carried no text').not.toBe('');
      await expectBilled(since, [answer.usage], p, front, true);
    },
  },
  tools: {
    title: 'a tool call, then the tool-result round trip, each billed as reported',
    async run(front, p) {
      const since = await gw().lastLogId();
      const trip = await client(front, p).tools(p.alias);
      expect(trip.call.name).toBe('get_weather');
      expect(trip.call.args.location).toEqual(expect.stringMatching(/\S/));
      expect(trip.answer.text.trim(), 'the answer to the tool result has no text').not.toBe('');
      await expectBilled(since, [trip.first, trip.answer.usage], p, front, false);
    },
  },
};

for (const spec of PROVIDERS) {
  const p = selection.ran.find((r) => r.spec.name === spec.name);
  describe.skipIf(p === undefined)(spec.name, () => {
    for (const { front, cases } of spec.fronts) {
      for (const kind of cases) {
        it(`${front} client: ${CASES[kind].title}`, () => CASES[kind].run(front, p!));
      }
    }
  });
}
