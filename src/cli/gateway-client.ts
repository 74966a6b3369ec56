/**
 * `bc` as a tenant against a gateway, possibly on another machine (SPEC section 11): the typed
 * client of the `/bc/v1/` routes (shared/self-service-api.ts) over node:http or node:https, the key
 * sent as `Authorization: Bearer`, as any OpenAI client sends it. A gateway nobody answers on is
 * GatewayUnreachable (exit 3, with what to check); a refusal is a DaemonError carrying the
 * gateway's own code and message (exit 1), with a pointer added where the cause is likely on our
 * side (the URL, the key, self-service being off).
 */
import http from 'node:http';
import https from 'node:https';
import { BcError } from '../shared/errors.js';
import { DaemonError } from '../shared/daemon-client.js';
import type { KeyView, UsageRow } from '../shared/control-api.js';
import {
  SELF_ROUTES,
  type MeView,
  type SelfKeyCreated,
  type SelfKeyInput,
  type SelfLogRow,
  type ReferralView,
  type SelfRouteName,
  type SelfUsageDimension,
} from '../shared/self-service-api.js';
import type { LedgerRowView, RedeemAnswer, SignupAnswer } from '../shared/tenant-api.js';

const TIMEOUT_MS = 30_000;

/** The gateway did not answer at all: exit 3, like a daemon that is not running. */
export class GatewayUnreachable extends BcError {
  constructor(message: string, cause?: unknown) {
    super('DAEMON_UNREACHABLE', message, { cause });
    this.name = 'GatewayUnreachable';
  }

  override get wireCode(): string {
    return 'gateway_unreachable';
  }
}

interface CallOptions {
  params?: Record<string, string | number>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

type KeyAction = 'enable' | 'disable' | 'revoke';
const KEY_ROUTES = {
  enable: 'keyEnable',
  disable: 'keyDisable',
  revoke: 'keyRevoke',
  rotate: 'keyRotate',
} as const satisfies Record<KeyAction | 'rotate', SelfRouteName>;

export interface GatewayClient {
  readonly url: string;
  me(): Promise<MeView>;
  usage(by: SelfUsageDimension, since: string): Promise<UsageRow[]>;
  logs(q: { limit?: number; key?: string }): Promise<SelfLogRow[]>;
  ledger(limit?: number): Promise<LedgerRowView[]>;
  redeem(code: string): Promise<RedeemAnswer>;
  referral(): Promise<ReferralView>;
  keys: {
    list(): Promise<KeyView[]>;
    create(input: SelfKeyInput): Promise<SelfKeyCreated>;
    edit(id: string, input: SelfKeyInput): Promise<KeyView>;
    rotate(id: string): Promise<SelfKeyCreated>;
  } & Record<KeyAction, (id: string) => Promise<KeyView>>;
  signup(code: string, name: string): Promise<SignupAnswer>;
}

/**
 * `url` is the gateway's root (`http://host:8300`); a trailing `/v1`, as in an OpenAI base URL, is
 * dropped. `key` is null only for signup.
 */
export function createGatewayClient(url: string, key: string | null): GatewayClient {
  const root = url.replace(/\/+$/, '').replace(/\/v1$/, '');
  const call = <T>(route: SelfRouteName, opts: CallOptions = {}): Promise<T> =>
    request<T>(root, key, route, opts);
  const keyAction =
    <T>(action: KeyAction | 'rotate') =>
    (id: string): Promise<T> =>
      call<T>(KEY_ROUTES[action], { params: { id } });
  return {
    url: root,
    me: () => call('me'),
    usage: (by, since) => call('usage', { query: { by, since } }),
    logs: (q) => call('logs', { query: { limit: q.limit, key: q.key } }),
    ledger: (limit) => call('ledger', { query: { limit } }),
    redeem: (code) => call('redeem', { body: { code } }),
    referral: () => call('referral'),
    keys: {
      list: () => call('keyList'),
      create: (input) => call('keyCreate', { body: input }),
      edit: (id, input) => call('keyEdit', { params: { id }, body: input }),
      enable: keyAction<KeyView>('enable'),
      disable: keyAction<KeyView>('disable'),
      revoke: keyAction<KeyView>('revoke'),
      rotate: keyAction<SelfKeyCreated>('rotate'),
    },
    signup: (code, name) => call('signup', { body: { code, name } }),
  };
}

async function request<T>(
  root: string,
  key: string | null,
  route: SelfRouteName,
  opts: CallOptions,
): Promise<T> {
  const [method, pattern] = SELF_ROUTES[route].split(' ') as [string, string];
  const path = pattern.replace(/:([a-z_]+)/g, (_m, name: string) =>
    encodeURIComponent(String(opts.params?.[name] ?? '')),
  );
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) qs.set(k, String(v));
  const target = new URL(root + path + (qs.size > 0 ? `?${qs.toString()}` : ''));
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(body);
  }
  let answer: { status: number; text: string };
  try {
    answer = await send(target, method, headers, body);
  } catch (err) {
    throw unreachable(root, err);
  }
  let doc: unknown;
  try {
    doc = answer.text === '' ? null : JSON.parse(answer.text);
  } catch {
    doc = undefined;
  }
  if (answer.status >= 200 && answer.status < 300 && doc !== undefined) return doc as T;
  throw refusal(root, method, path, answer.status, doc, key !== null);
}

function send(
  url: URL,
  method: string,
  headers: http.OutgoingHttpHeaders,
  body: string | undefined,
): Promise<{ status: number; text: string }> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}

function unreachable(root: string, err: unknown): GatewayUnreachable {
  const code = (err as { code?: unknown }).code;
  const why = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
  return new GatewayUnreachable(
    `cannot reach the gateway at ${root} (${why}): check --gateway (or BC_GATEWAY) and that the ` +
      "daemon listens there (`bc status` on its machine shows the gateway's address)",
    err,
  );
}

/** The gateway said no: its OpenAI-shaped error, with what to check when the cause is likely ours. */
function refusal(
  root: string,
  method: string,
  path: string,
  status: number,
  doc: unknown,
  keyed: boolean,
): DaemonError {
  const e = (doc as { error?: { code?: unknown; message?: unknown } } | null | undefined)?.error;
  const code = typeof e?.code === 'string' ? e.code : `http_${status}`;
  let message = typeof e?.message === 'string' ? e.message : `${method} ${path} answered HTTP ${status}`;
  if (e === undefined) {
    message += `: is ${root} a BurnCloud gateway? (--gateway takes its root URL, e.g. http://host:8300)`;
  } else if (code === 'not_found' && /^unknown endpoint/.test(message)) {
    message +=
      ': self-service is off on this gateway, or it is not a BurnCloud gateway (its operator turns ' +
      'self-service on with `bc tenant settings --self-service on`)';
  } else if (code === 'invalid_api_key' && keyed) {
    message += ': check --key (or BC_KEY)';
  }
  return new DaemonError(status, code, message);
}
