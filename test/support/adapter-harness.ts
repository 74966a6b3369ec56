/**
 * What the shared adapter contract suite (test/contract/adapter-contract.test.ts) needs to know
 * about one provider: how to start its simulator and build the UpstreamTarget for it (a good key
 * and a bad one), how its simulator is told to fail in each of the suite's named ways (each sim's
 * own fault API), which decoder frames its stream, and what the simulator answers, so the suite
 * asserts exact values with no branch on a provider's name. The list itself is
 * adapter-harnesses.ts; this module holds the shape and the shared plumbing: sending an
 * adapter-built request and reading a stream through the real decoder and the adapter's converter.
 */
import { request } from 'undici';
import type { OpenAIChatChunk } from '../../src/daemon/providers/openai/types.js';
import type {
  ProviderAdapter,
  StreamEvent,
  UpstreamRequest,
  UpstreamTarget,
  Usage,
} from '../../src/daemon/providers/types.js';
import { EventStreamDecoder } from '../../src/daemon/streams/eventstream.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';
import type { SimHandle } from './sim/sim-common.js';

export type Json = Record<string, unknown>;

/** The failures every harness can inject, by the suite's names. */
export type ContractFault =
  'rateLimited' | 'overloaded' | 'invalidRequest' | 'midStream' | 'hangup' | 'garbage' | 'reset';

/** A decoder as the relay drives it: bytes in, events out, then the end of the body. */
export interface StreamDecoder {
  push(chunk: Buffer): StreamEvent[];
  end(): StreamEvent[];
}

export function sseDecoder(): StreamDecoder {
  return new SseDecoder();
}

export function eventStreamDecoder(): StreamDecoder {
  const d = new EventStreamDecoder();
  return {
    push: (chunk) => d.push(chunk),
    end: () => {
      d.end();
      return [];
    },
  };
}

/** A started simulator as the suite drives it. */
export interface ContractSim {
  /** the target with an accepted key; `upstreamModel` overrides the harness's model */
  target(): UpstreamTarget;
  /** the same target with a key the simulator refuses */
  badKeyTarget(): UpstreamTarget;
  inject(fault: ContractFault): void;
  /** the JSON body of the last request the simulator received */
  lastBody(): Json;
  clearFaults(): void;
  close(): Promise<void>;
}

/** What a provider's simulator answers the suite's requests with. */
export interface HarnessExpectations {
  /** the answer text (the simulator's default, from the recordings where it has them) */
  text: string;
  /** prompt tokens the simulator bills for a request body it received (its own formula) */
  promptTokens(sent: Json): number;
  /** the tool call the simulator makes for the suite's weather tool */
  tool: {
    /** tool call ids the adapter hands the client (Gemini sends none: the adapter makes them) */
    id: RegExp;
    arguments: string;
    /** the arguments as streamed (a simulator may stream the recording's spacing) */
    streamedArguments: string;
    outputTokens: number;
  };
  /** the failures the suite injects, as classifyError or the stream converter reports them */
  rateLimited: { status: number; retryAfterMs: number };
  overloaded: { status: number };
  badKey: { status: number };
  invalidRequest: { status: number };
  midStream: { status: number };
  /** what a stream of garbage fails with: the converter's UpstreamStreamError, or the decoder's Error */
  garbage: { error: new (...args: never[]) => Error; message: RegExp };
}

export interface AdapterHarness {
  name: string;
  adapter: ProviderAdapter;
  decoder(): StreamDecoder;
  /** extra x-sim-* knobs for a stream (e.g. UTF-8 split across writes, where the sim can) */
  streamKnobs: Record<string, string>;
  start(): Promise<ContractSim>;
  expect: HarnessExpectations;
}

/**
 * A harness's simulator handle plus its faults by the suite's names; typed per simulator so each
 * fault is checked against that sim's own fault union.
 */
export function contractSim<F>(
  sim: SimHandle<F>,
  faults: Record<ContractFault, F>,
  target: (secret?: string) => UpstreamTarget,
  badSecret: string,
): ContractSim {
  return {
    target: () => target(),
    badKeyTarget: () => target(badSecret),
    inject: (name) => sim.fault(faults[name]),
    lastBody: () => JSON.parse(sim.calls.at(-1)?.body.toString('utf8') ?? '{}') as Json,
    clearFaults: () => sim.clearFaults(),
    close: () => sim.close(),
  };
}

export interface Exchange {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  chunks: Buffer[];
  /** the transport failed while the body was read (a hang-up) */
  transportError: unknown;
}

/** Sends an adapter-built request and keeps every byte received, even when the body is cut. */
export async function exchange(up: UpstreamRequest, knobs: Record<string, string> = {}): Promise<Exchange> {
  const res = await request(up.url, {
    method: up.method,
    headers: { ...up.headers, ...knobs },
    body: up.body,
  });
  const out: Exchange = {
    status: res.statusCode,
    headers: res.headers,
    chunks: [],
    transportError: undefined,
  };
  try {
    for await (const c of res.body) out.chunks.push(c as Buffer);
  } catch (e) {
    out.transportError = e;
  }
  return out;
}

export function bodyText(x: Exchange): string {
  return Buffer.concat(x.chunks).toString('utf8');
}

export interface ConvertedStream {
  chunks: OpenAIChatChunk[];
  text: string;
  finishes: string[];
  /** the first error the decoder or converter threw (the stream is not read on after it) */
  error: unknown;
  usage: Usage | null;
}

/** The received bytes through the harness's decoder and the adapter's stream converter, as the relay reads them. */
export function convertStream(h: AdapterHarness, target: UpstreamTarget, x: Exchange): ConvertedStream {
  const decoder = h.decoder();
  const conv = h.adapter.chatStream(target, { dropped: [] });
  const chunks: OpenAIChatChunk[] = [];
  let error: unknown;
  try {
    for (const c of x.chunks) for (const e of decoder.push(c)) chunks.push(...conv.push(e));
    for (const e of decoder.end()) chunks.push(...conv.push(e));
    chunks.push(...conv.end());
  } catch (e) {
    error = e;
  }
  return {
    chunks,
    text: chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''),
    finishes: chunks.flatMap((c) => (c.choices[0]?.finish_reason ? [c.choices[0].finish_reason] : [])),
    error,
    usage: conv.usage(),
  };
}
