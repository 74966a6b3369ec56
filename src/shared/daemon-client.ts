/**
 * The typed client of the daemon's control API on the Unix socket, shared by the CLI and the TUIs.
 * node:http on the socket, keep-alive per instance; every route of ROUTES has a method returning
 * its View type.
 * A socket nobody answers on becomes BcError('DAEMON_UNREACHABLE'); a refusal by the daemon becomes
 * a DaemonError carrying the daemon's own message and code. Free of CLI concerns (no printing, no
 * exit codes) and cheap to import, because `bc status` must start in about 100 ms.
 */
import http from 'node:http';
import { BcError } from './errors.js';
import type { BcErrorCode } from './errors.js';
import { ROUTES } from './control-api.js';
import type { LogExportQuery } from './log-export.js';
import type {
  ChannelInput,
  ChannelTestResult,
  ChannelView,
  GroupView,
  KeyCreated,
  KeyInput,
  KeyView,
  LogQuery,
  LogRow,
  LogPruneRequest,
  LogPruneResult,
  ModelView,
  PriceInput,
  PriceView,
  StatusView,
  UsageDimension,
  UsageRow,
} from './control-api.js';
import type {
  CreditAnswer,
  CreditInput,
  InvitationView,
  InviteCreated,
  InviteInput,
  InviteView,
  LedgerRowView,
  RedeemAnswer,
  RedeemCodeInput,
  RedeemCodesCreated,
  RedeemCodeView,
  SignupAnswer,
  TenantSettings,
  TenantSettingsInput,
  UserInput,
  UserView,
} from './tenant-api.js';

/** Query filters of `GET /v1/redeem-codes`. */
export interface RedeemListQuery {
  batch?: string;
  status?: string;
  user?: string;
}

export interface DaemonClientOptions {
  socket: string;
  /** how long to wait for the daemon's answer (headers and body); default 60 s */
  timeoutMs?: number;
}

export interface DaemonClient {
  readonly socket: string;
  status(): Promise<StatusView>;
  reload(): Promise<{ ok: boolean }>;
  /** the daemon answers, then starts its graceful stop (drain) */
  shutdown(): Promise<{ ok: boolean; pid: number }>;
  channels: {
    list(): Promise<ChannelView[]>;
    show(id: string | number): Promise<ChannelView>;
    add(input: ChannelInput): Promise<ChannelView>;
    edit(id: string | number, input: ChannelInput): Promise<ChannelView>;
    enable(id: string | number): Promise<ChannelView>;
    disable(id: string | number): Promise<ChannelView>;
    /** answers with the channel as it was */
    remove(id: string | number): Promise<ChannelView>;
    test(id: string | number, model?: string): Promise<ChannelTestResult>;
  };
  keys: {
    /** `user`: only the keys that user owns */
    list(user?: string): Promise<KeyView[]>;
    show(id: string | number): Promise<KeyView>;
    create(input: KeyInput & { user?: string; scope?: 'relay' | 'account' }): Promise<KeyCreated>;
    edit(id: string | number, input: KeyInput): Promise<KeyView>;
    enable(id: string | number): Promise<KeyView>;
    disable(id: string | number): Promise<KeyView>;
    revoke(id: string | number): Promise<KeyView>;
    rotate(id: string | number): Promise<KeyCreated>;
  };
  prices: {
    list(): Promise<PriceView[]>;
    set(model: string, input: PriceInput): Promise<PriceView>;
    /** answers with the price as it was */
    remove(model: string): Promise<PriceView>;
  };
  groups: {
    list(): Promise<GroupView[]>;
    set(name: string, ratio: number): Promise<GroupView>;
  };
  users: {
    list(): Promise<UserView[]>;
    show(id: string | number): Promise<UserView>;
    /** with `invite`, the answer is a SignupAnswer (the user and their first key) */
    create(input: UserInput): Promise<UserView | SignupAnswer>;
    edit(id: string | number, input: UserInput): Promise<UserView>;
    /** `force`: also with a balance or enabled keys left; answers with the user as removed */
    remove(id: string | number, force?: boolean): Promise<UserView>;
    enable(id: string | number): Promise<UserView>;
    disable(id: string | number): Promise<UserView>;
    credit(id: string | number, input: CreditInput): Promise<CreditAnswer>;
    ledger(id: string | number, limit?: number): Promise<LedgerRowView[]>;
  };
  redeem: {
    create(input: RedeemCodeInput): Promise<RedeemCodesCreated>;
    list(query?: RedeemListQuery): Promise<RedeemCodeView[]>;
    show(id: string | number): Promise<RedeemCodeView & { redemptions?: unknown[] }>;
    revoke(id: string | number): Promise<RedeemCodeView>;
    revokeBatch(batch: string): Promise<{ revoked: number }>;
    /** the admin redeems on a user's behalf: exact reasons on failure */
    use(code: string, user: string): Promise<RedeemAnswer>;
  };
  invites: {
    create(input: InviteInput): Promise<InviteCreated>;
    list(): Promise<InviteView[]>;
    show(id: string | number): Promise<InviteView>;
    revoke(id: string | number): Promise<InviteView>;
    invitations(): Promise<InvitationView[]>;
  };
  tenant: {
    settings(): Promise<TenantSettings>;
    set(input: TenantSettingsInput): Promise<TenantSettings>;
  };
  /** `bc import one-api`: the daemon applies a plan the CLI read from the source database */
  importOneApi(plan: unknown): Promise<unknown>;
  models(): Promise<ModelView[]>;
  logs(query?: LogQuery): Promise<LogRow[]>;
  /** one bounded step of `bc logs prune` (the CLI repeats it while `more`) */
  pruneLogs(input: LogPruneRequest): Promise<LogPruneResult>;
  usage(by: UsageDimension, since?: string): Promise<UsageRow[]>;
  /**
   * the current per-second series (shape defined by the metrics routes); `node`: a clustered
   * daemon's node id or `local` (absent: the whole cluster, or the daemon itself when alone)
   */
  metricsSnapshot(node?: string): Promise<unknown>;
  /** one parsed NDJSON document per line of `GET /v1/metrics/stream`, until `signal` aborts */
  metricsStream(signal?: AbortSignal, node?: string): AsyncIterable<unknown>;
  /** one parsed NDJSON document per line of `GET /v1/logs/export` (shared/log-export.ts) */
  logsExport(query: LogExportQuery, signal?: AbortSignal): AsyncIterable<unknown>;
  close(): Promise<void>;
}

/** The daemon answered, and said no: its own message, its own code. */
export class DaemonError extends BcError {
  /** the `error.code` of the daemon's answer, e.g. `not_found`, `conflict` */
  readonly daemonCode: string;

  constructor(status: number, daemonCode: string, message: string) {
    super(codeForStatus(status), message, { status });
    this.name = 'DaemonError';
    this.daemonCode = daemonCode;
  }
}

type RouteName = keyof typeof ROUTES;
type Query = Record<string, string | number | boolean | undefined>;

interface CallOptions {
  params?: Record<string, string | number>;
  body?: unknown;
  query?: Query;
}

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Answer {
  status: number;
  body: http.IncomingMessage;
}

/**
 * One request on the Unix socket with node:http. node:http is already in memory when node starts,
 * whereas loading undici and tearing it down at exit costs a short-lived `bc` command more than
 * the request itself.
 */
function requestOnSocket(
  agent: http.Agent,
  socketPath: string,
  o: { method: HttpMethod; path: string; body?: string; timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = {};
    if (o.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(o.body);
    }
    // No TLS on a Unix socket, so no server name (an option the agent reads, untyped for http):
    // saying so spares the agent its guess from the host, which compiles Node's IPv6 regular
    // expression, about 4 ms of a `bc` command's start.
    const options: http.RequestOptions & { servername: string } = {
      agent,
      socketPath,
      servername: '',
      method: o.method,
      path: o.path,
      headers,
    };
    const req = http.request(options);
    if (o.timeoutMs > 0) {
      req.setTimeout(o.timeoutMs, () =>
        req.destroy(new Error(`the daemon did not answer within ${o.timeoutMs} ms`)),
      );
    }
    if (o.signal) {
      if (o.signal.aborted) req.destroy(new Error('aborted'));
      o.signal.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
    }
    req.on('response', (res) => resolve({ status: res.statusCode ?? 0, body: res }));
    req.on('error', reject);
    req.end(o.body);
  });
}

async function readText(res: http.IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of res) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ENOTDIR', 'ENOTSOCK']);

function errnoOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function unreachableError(socket: string, cause?: unknown): BcError {
  const denied = errnoOf(cause) === 'EACCES';
  const message = denied
    ? `cannot open the daemon's socket ${socket} (permission denied): run bc as the daemon's user`
    : `the daemon is not running (socket ${socket}): start it with \`bc start\``;
  return new BcError('DAEMON_UNREACHABLE', message, { cause });
}

function codeForStatus(status: number): BcErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 400 || status === 422) return 'INVALID_REQUEST';
  return 'INTERNAL';
}

function buildPath(route: RouteName, opts: CallOptions): { method: HttpMethod; path: string } {
  const [method, pattern] = ROUTES[route].split(' ') as [HttpMethod, string];
  const path = pattern.replace(/:([a-z_]+)/g, (_m, name: string) => {
    const v = opts.params?.[name];
    if (v === undefined) throw new Error(`route ${route} needs :${name}`);
    return encodeURIComponent(String(v));
  });
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) qs.set(k, String(v));
  const q = qs.toString();
  return { method, path: q ? `${path}?${q}` : path };
}

function toDaemonError(status: number, text: string): DaemonError {
  let code = `http_${status}`;
  let message = `the daemon answered HTTP ${status}`;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    if (text.trim()) message = `${message}: ${text.trim().slice(0, 200)}`;
  }
  return new DaemonError(status, code, message);
}

export function createDaemonClient(opts: DaemonClientOptions): DaemonClient {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  // keep-alive for the TUIs' many calls; a metrics stream simply holds one more socket
  const agent = new http.Agent({ keepAlive: true });

  async function send(
    route: RouteName,
    o: CallOptions,
    stream?: { signal?: AbortSignal | undefined },
  ): Promise<Answer> {
    const { method, path } = buildPath(route, o);
    try {
      return await requestOnSocket(agent, opts.socket, {
        method,
        path,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        timeoutMs: stream ? 0 : timeoutMs,
        signal: stream?.signal,
      });
    } catch (err) {
      if (errnoOf(err)) throw unreachableError(opts.socket, err);
      throw err;
    }
  }

  async function call<T>(route: RouteName, o: CallOptions = {}): Promise<T> {
    const res = await send(route, o);
    const text = await readText(res.body);
    if (res.status < 200 || res.status > 299) throw toDaemonError(res.status, text);
    return (text.trim() === '' ? undefined : JSON.parse(text)) as T;
  }

  /** One parsed NDJSON document per line of a streamed answer, until it ends or `signal` aborts. */
  async function* lines(route: RouteName, query: Query, signal?: AbortSignal): AsyncIterable<unknown> {
    let res: Answer;
    try {
      res = await send(route, { query }, { signal });
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    if (res.status < 200 || res.status > 299) throw toDaemonError(res.status, await readText(res.body));
    let buffered = '';
    try {
      for await (const chunk of res.body) {
        buffered += (chunk as Buffer).toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) yield JSON.parse(line) as unknown;
        }
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    } finally {
      if (!res.body.destroyed) res.body.destroy();
    }
  }

  const id = (v: string | number) => ({ id: v });
  return {
    socket: opts.socket,
    status: () => call<StatusView>('status'),
    reload: () => call<{ ok: boolean }>('reload'),
    shutdown: () => call<{ ok: boolean; pid: number }>('shutdown'),
    channels: {
      list: () => call<ChannelView[]>('channelList'),
      show: (v) => call<ChannelView>('channelShow', { params: id(v) }),
      add: (input) => call<ChannelView>('channelAdd', { body: input }),
      edit: (v, input) => call<ChannelView>('channelEdit', { params: id(v), body: input }),
      enable: (v) => call<ChannelView>('channelEnable', { params: id(v) }),
      disable: (v) => call<ChannelView>('channelDisable', { params: id(v) }),
      remove: (v) => call<ChannelView>('channelRemove', { params: id(v) }),
      test: (v, model) =>
        call<ChannelTestResult>('channelTest', { params: id(v), body: model ? { model } : {} }),
    },
    keys: {
      list: (user) => call<KeyView[]>('keyList', { query: { user } }),
      show: (v) => call<KeyView>('keyShow', { params: id(v) }),
      create: (input) => call<KeyCreated>('keyCreate', { body: input }),
      edit: (v, input) => call<KeyView>('keyEdit', { params: id(v), body: input }),
      enable: (v) => call<KeyView>('keyEnable', { params: id(v) }),
      disable: (v) => call<KeyView>('keyDisable', { params: id(v) }),
      revoke: (v) => call<KeyView>('keyRevoke', { params: id(v) }),
      rotate: (v) => call<KeyCreated>('keyRotate', { params: id(v) }),
    },
    prices: {
      list: () => call<PriceView[]>('priceList'),
      set: (model, input) => call<PriceView>('priceSet', { params: { model }, body: input }),
      remove: (model) => call<PriceView>('priceRemove', { params: { model } }),
    },
    groups: {
      list: () => call<GroupView[]>('groupList'),
      set: (name, ratio) => call<GroupView>('groupSet', { params: { name }, body: { ratio } }),
    },
    users: {
      list: () => call<UserView[]>('userList'),
      show: (v) => call<UserView>('userShow', { params: id(v) }),
      create: (input) => call<UserView | SignupAnswer>('userCreate', { body: input }),
      edit: (v, input) => call<UserView>('userEdit', { params: id(v), body: input }),
      remove: (v, force) =>
        call<UserView>('userRemove', { params: id(v), query: { force: force ? 'true' : undefined } }),
      enable: (v) => call<UserView>('userEnable', { params: id(v) }),
      disable: (v) => call<UserView>('userDisable', { params: id(v) }),
      credit: (v, input) => call<CreditAnswer>('userCredit', { params: id(v), body: input }),
      ledger: (v, limit) => call<LedgerRowView[]>('userLedger', { params: id(v), query: { limit } }),
    },
    redeem: {
      create: (input) => call<RedeemCodesCreated>('redeemCreate', { body: input }),
      list: (query = {}) => call<RedeemCodeView[]>('redeemList', { query: { ...query } }),
      show: (v) => call<RedeemCodeView & { redemptions?: unknown[] }>('redeemShow', { params: id(v) }),
      revoke: (v) => call<RedeemCodeView>('redeemRevoke', { params: id(v) }),
      revokeBatch: (batch) => call<{ revoked: number }>('redeemRevokeBatch', { body: { batch } }),
      use: (code, user) => call<RedeemAnswer>('redeemUse', { body: { code, user } }),
    },
    invites: {
      create: (input) => call<InviteCreated>('inviteCreate', { body: input }),
      list: () => call<InviteView[]>('inviteList'),
      show: (v) => call<InviteView>('inviteShow', { params: id(v) }),
      revoke: (v) => call<InviteView>('inviteRevoke', { params: id(v) }),
      invitations: () => call<InvitationView[]>('invitationList'),
    },
    tenant: {
      settings: () => call<TenantSettings>('tenantSettingsShow'),
      set: (input) => call<TenantSettings>('tenantSettingsSet', { body: input }),
    },
    importOneApi: (plan) => call<unknown>('importOneApi', { body: plan }),
    models: () => call<ModelView[]>('models'),
    logs: (query = {}) => call<LogRow[]>('logs', { query: { ...query } }),
    pruneLogs: (input) => call<LogPruneResult>('logsPrune', { body: input }),
    usage: (by, since) => call<UsageRow[]>('usage', { query: { by, since } }),
    metricsSnapshot: (node) => call<unknown>('metricsSnapshot', { query: { node } }),
    metricsStream: (signal, node) => lines('metricsStream', { node }, signal),
    logsExport: (query, signal) => lines('logsExport', { ...query }, signal),
    close: async () => agent.destroy(),
  };
}
