/**
 * What every control route file receives, and the helpers they share: registering a handler by
 * its entry in the ROUTES table of control-api.ts (so a route's method and path are written once,
 * in the contract), and resolving `:id` (an id or a unique name) to a record or a 404.
 */
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HTTPMethods,
  RouteShorthandOptions,
} from 'fastify';
import type { ChannelType } from '../../shared/control-api.js';
import { BcError } from '../../shared/errors.js';
import type { Services } from '../service-types.js';
import type { ChannelRecord, KeyRecord, UserRecord } from '../store/types.js';
import { parseRef } from './validate.js';

export interface ControlHooks {
  /** called once the answer to `POST /v1/shutdown` has been sent */
  requestShutdown?: () => void;
}

export interface ControlContext {
  services: Services;
  hooks: ControlHooks;
  defaultBaseUrl: (type: ChannelType) => string | null;
}

interface ControlRoute {
  Params: Record<string, string>;
  Body: unknown;
  Querystring: unknown;
}
export type ControlRequest = FastifyRequest<ControlRoute>;
type Handler = (req: ControlRequest, reply: FastifyReply) => Promise<unknown>;

/** Registers `handler` for a ROUTES entry such as `GET /v1/channels/:id`. */
export function on(
  app: FastifyInstance,
  route: string,
  handler: Handler,
  opts: RouteShorthandOptions = {},
): void {
  const [method, url] = route.split(' ') as [HTTPMethods, string];
  app.route<ControlRoute>({ ...opts, method, url, handler });
}

function describe(kind: string, ref: number | string): string {
  return typeof ref === 'number' ? `no ${kind} with id ${ref}` : `no ${kind} named "${ref}"`;
}

export async function mustGetChannel(services: Services, raw: string | undefined): Promise<ChannelRecord> {
  const ref = parseRef(raw ?? '');
  const c = await services.store.getChannel(ref);
  if (c === undefined) throw new BcError('NOT_FOUND', describe('channel', ref));
  return c;
}

export async function mustGetKey(services: Services, raw: string | undefined): Promise<KeyRecord> {
  const ref = parseRef(raw ?? '');
  const k = await services.store.getKey(ref);
  if (k === undefined) throw new BcError('NOT_FOUND', describe('key', ref));
  return k;
}

export async function mustGetUser(services: Services, raw: string | undefined): Promise<UserRecord> {
  const ref = parseRef(raw ?? '');
  const u = await services.store.getUser(ref);
  if (u === undefined) throw new BcError('NOT_FOUND', `${describe('user', ref)}: see \`bc user list\``);
  return u;
}

/** Users' names by id, for views that name a key's owner or a user's inviter. */
export async function userNames(services: Services): Promise<Map<number, string>> {
  return new Map((await services.store.listUsers()).map((u) => [u.id, u.name]));
}
