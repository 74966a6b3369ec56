/**
 * A wire-faithful Bedrock Runtime simulator (PROTOCOLS 6 and 9.5) on 127.0.0.1. It verifies SigV4
 * on every request with our own signer, recomputing the signature from the raw path, query,
 * signed headers and body (so a singly-encoded `%3A` model id fails exactly as on AWS), or accepts
 * a Bedrock API key as a Bearer token. Converse answers like `converse-nonstream-text.json` (a
 * toolUse when the request has a toolConfig and is not answering a tool result; reasoning when
 * thinking is requested); ConverseStream answers in binary event-stream frames shaped like the
 * recordings: `"p"` padding, no contentBlockStart for text, `metadata` after `messageStop`. Errors
 * are `{"message"}` with `x-amzn-ErrorType`. Usage is predictable: input = ceil(UTF-8 bytes of
 * JSON(messages) / 4), output = the number of deltas sent. Knobs: `x-sim-deltas`,
 * `x-sim-pace-ms`, `x-sim-text` (percent-encoded UTF-8), `x-sim-cached-tokens`.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { encodeEventStreamMessage } from '../../../src/daemon/streams/eventstream.js';
import * as sig from '../../../src/daemon/providers/bedrock/sigv4.js';
import type { Json } from './bedrock-sim-answers.js';
import { bodyProblem, converseBody, plan, streamFrames } from './bedrock-sim-answers.js';
import type { SimCall, SimHandle } from './sim-common.js';
import {
  beginRequest,
  hangUp,
  header,
  intHeader,
  parseJsonObject,
  pause,
  SimControls,
  simHandle,
  startSimServer,
  untilClosed,
  write,
} from './sim-common.js';

export type { SimCall } from './sim-common.js';
export { DEFAULT_BEDROCK_SIM_TEXT } from './bedrock-sim-answers.js';

export type BedrockFault =
  | { kind: 'status'; status: number; errorType?: string; message?: string; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'stall' }
  | { kind: 'hangup'; afterFrames: number }
  | { kind: 'stallAfter'; afterFrames: number }
  | { kind: 'garbage' }
  | { kind: 'exception'; afterFrames: number; exceptionType?: string; message?: string }
  /** the generic simulators' name for an error after N frames: a throttlingException frame */
  | { kind: 'midStreamError'; afterFrames: number };

export interface BedrockSimCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface BedrockSimOptions {
  port?: number;
  credentials?: BedrockSimCredentials[];
  region?: string;
  apiKeys?: string[];
}

export interface BedrockSim extends SimHandle<BedrockFault> {
  /** base URL to give a channel, e.g. http://127.0.0.1:PORT */
  url: string;
  region: string;
  /** calls whose path equals `path`, or ends in `/path` (e.g. `converse-stream`) */
  callCount(path?: string): number;
}

export const BEDROCK_SIM_CREDENTIALS: BedrockSimCredentials = {
  accessKeyId: 'AKIASIMULATOR0EXAMPLE',
  secretAccessKey: 'simSecret/K7MDENG+bPxRfiCYSIMULATORKEY',
};
const STATUS_TYPES: Record<number, string> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

type Problem = [status: number, type: string, message: string];

function sendError(
  res: http.ServerResponse,
  [status, type, message]: Problem,
  extra: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-requestid': randomUUID(),
    'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    ...extra,
  });
  res.end(JSON.stringify({ message }));
}

const BAD_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** SigV4 or Bearer; null when the caller is who it claims to be. */
function authProblem(
  call: SimCall,
  req: http.IncomingMessage,
  creds: BedrockSimCredentials[],
  apiKeys: string[],
  region: string,
): Problem | null {
  const authorization = header(req.headers, 'authorization');
  if (!authorization) return [403, 'MissingAuthenticationTokenException', 'Missing Authentication Token'];
  const bearer = /^Bearer\s+(\S+)$/.exec(authorization);
  if (bearer)
    return apiKeys.includes(bearer[1] ?? '') ? null : [403, 'UnrecognizedClientException', 'Invalid API Key'];
  const auth = sig.parseAuthorization(authorization);
  if (!auth)
    return [
      403,
      'IncompleteSignatureException',
      'Authorization header requires Credential, SignedHeaders and Signature.',
    ];
  const secret = creds.find((c) => c.accessKeyId === auth.accessKeyId)?.secretAccessKey;
  if (secret === undefined)
    return [403, 'UnrecognizedClientException', 'The security token included in the request is invalid.'];
  if (auth.service !== 'bedrock' || auth.region !== region) {
    return [
      403,
      'InvalidSignatureException',
      `Credential should be scoped to a valid region and service 'bedrock' in '${region}'.`,
    ];
  }
  const date = header(req.headers, 'x-amz-date') ?? '';
  const at = Date.parse(date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (
    !auth.signedHeaders.includes('host') ||
    !auth.signedHeaders.includes('x-amz-date') ||
    !date.startsWith(auth.date)
  ) {
    return [403, 'InvalidSignatureException', BAD_SIGNATURE];
  }
  if (!Number.isFinite(at) || Math.abs(Date.now() - at) > 15 * 60_000)
    return [403, 'InvalidSignatureException', 'Signature expired.'];
  const signed: Record<string, string> = {};
  for (const name of auth.signedHeaders) signed[name] = header(req.headers, name) ?? '';
  const canonical = sig.canonicalRequest({
    method: call.method,
    path: call.path,
    query: call.query,
    headers: signed,
    payloadHash: sig.sha256Hex(call.body),
  });
  const sts = sig.stringToSign(date, sig.credentialScope(auth.date, region, 'bedrock'), canonical.text);
  const expected = sig.signature(sig.signingKey(secret, auth.date, region, 'bedrock'), sts);
  return expected === auth.signature ? null : [403, 'InvalidSignatureException', BAD_SIGNATURE];
}

type ExceptionFault = Extract<BedrockFault, { kind: 'exception' | 'midStreamError' }>;

function exceptionFrame(f: ExceptionFault): Buffer {
  const custom: { exceptionType?: string; message?: string } = f.kind === 'exception' ? f : {};
  return encodeEventStreamMessage(
    {
      ':exception-type': custom.exceptionType ?? 'throttlingException',
      ':content-type': 'application/json',
      ':message-type': 'exception',
    },
    Buffer.from(
      JSON.stringify({ message: custom.message ?? 'Too many requests, please wait before trying again.' }),
    ),
  );
}

async function answerStream(
  res: http.ServerResponse,
  frames: Buffer[],
  paceMs: number,
  fault: BedrockFault | undefined,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'application/vnd.amazon.eventstream',
    'x-amzn-requestid': randomUUID(),
  });
  if (fault?.kind === 'garbage') {
    const bad = Buffer.from(frames[1] ?? frames[0] ?? Buffer.alloc(16));
    bad.writeUInt32BE((bad.readUInt32BE(bad.length - 4) ^ 0xdeadbeef) >>> 0, bad.length - 4);
    if ((await write(res, frames[0] ?? Buffer.alloc(0))) && (await write(res, bad))) res.end();
    return;
  }
  const cutAt = fault && 'afterFrames' in fault ? Math.min(fault.afterFrames, frames.length) : frames.length;
  for (let i = 0; i < cutAt; i++) {
    if (i > 0 && !(await pause(res, paceMs))) return;
    if (!(await write(res, frames[i] ?? Buffer.alloc(0)))) return;
  }
  if (fault?.kind === 'hangup') {
    await pause(res, 10);
    return hangUp(res);
  }
  if (fault?.kind === 'stallAfter') return untilClosed(res);
  const exception = fault?.kind === 'exception' || fault?.kind === 'midStreamError' ? fault : undefined;
  if (exception && !(await write(res, exceptionFrame(exception)))) return;
  res.end();
}

async function answerJson(
  res: http.ServerResponse,
  body: Json,
  fault: BedrockFault | undefined,
): Promise<void> {
  if (fault?.kind === 'exception' || fault?.kind === 'midStreamError') {
    return sendError(res, [500, 'InternalServerException', 'Internal server error (simulated).']);
  }
  const text = Buffer.from(
    fault?.kind === 'garbage' ? '<html><body>502 Bad Gateway</body></html>' : JSON.stringify(body),
  );
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': String(text.length),
    'x-amzn-requestid': randomUUID(),
  });
  if (fault?.kind !== 'hangup' && fault?.kind !== 'stallAfter') return void res.end(text);
  await write(res, text.subarray(0, Math.floor(text.length / 2)));
  if (fault.kind === 'stallAfter') return untilClosed(res);
  await pause(res, 10);
  hangUp(res);
}

export async function startBedrockSim(opts: BedrockSimOptions = {}): Promise<BedrockSim> {
  const controls = new SimControls<BedrockFault>();
  const creds = opts.credentials ?? [BEDROCK_SIM_CREDENTIALS];
  const region = opts.region ?? 'us-east-1';
  const server = await startSimServer(opts.port ?? 0, async (call, req, res) => {
    const begun = await beginRequest(res, controls);
    if (begun === null) return;
    const { fault } = begun;
    if (fault?.kind === 'status') {
      const type = fault.errorType ?? STATUS_TYPES[fault.status] ?? 'InternalServerException';
      return sendError(res, [fault.status, type, fault.message ?? `Simulated ${type}.`], fault.headers);
    }
    const route = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(call.path);
    if (call.method !== 'POST' || !route)
      return sendError(res, [
        404,
        'UnknownOperationException',
        `Unknown operation ${call.method} ${call.path}`,
      ]);
    const auth = authProblem(call, req, creds, opts.apiKeys ?? [], region);
    if (auth) return sendError(res, auth);
    const body = parseJsonObject(call.body);
    const problem = bodyProblem(body, decodeURIComponent(route[1] ?? ''));
    if (problem !== undefined || !body) return sendError(res, [400, 'ValidationException', problem ?? '']);
    const p = plan(body, req);
    if (route[2] === 'converse') return answerJson(res, converseBody(p), fault);
    await answerStream(res, streamFrames(p), intHeader(req.headers, 'x-sim-pace-ms', 0), fault);
  });
  const handle = simHandle(
    server,
    controls,
    `http://127.0.0.1:${server.port}`,
    (c, path) => c.path === path || c.path.endsWith(`/${path}`),
  );
  return { ...handle, region };
}
