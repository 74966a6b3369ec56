/**
 * `POST /v1/import/one-api` (bc import one-api, TENANTS.md 5.11): applies the plan the CLI read
 * from a One API / New API database. The plan's shape is validated first (400 on a wrong top
 * level); each entry is then checked by the rules of the route that would create it, and one that
 * fails is left out and named in the report. Upstream secrets are sealed here with the master key
 * and client secrets hashed, so the store sees neither; the store writes everything in one
 * transaction and skips what an earlier run of the same source brought over. The answer is the
 * report: counts per kind (imported, skipped, already), then every warning.
 */
import type { FastifyInstance } from 'fastify';
import { storedFields } from '../../../shared/channel-fields.js';
import { ROUTES } from '../../../shared/control-api.js';
import {
  IMPORT_KINDS,
  type ImportPlan,
  type ImportReport,
  type PlanChannel,
  type PlanKey,
} from '../../../shared/import-plan.js';
import { roundHalfUp } from '../../../shared/money.js';
import { resolve } from '../../pricing/price-book.js';
import { hashKeySecret, maskSecret } from '../../secrets.js';
import type { Services } from '../../service-types.js';
import type { PreparedChannel, PreparedImport, PreparedKey } from '../../store/import-types.js';
import type { PriceRecord } from '../../store/types.js';
import { on, type ControlContext } from '../context.js';
import { validateChannelCreate, validateKeyCreate } from '../validate.js';
import {
  refusal,
  sourceId,
  validateCode,
  validateGroup,
  validatePlan,
  validatePrice,
  validateUser,
} from '../validate-import.js';
import { invalid } from '../validate-fields.js';

/** A plan carries every row of the source: far above the control socket's usual 1 MiB. */
const PLAN_BODY_LIMIT = 512 * 1024 * 1024;

export function importRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { services } = ctx;
  on(
    app,
    ROUTES.importOneApi,
    async (req) => {
      const plan = validatePlan(req.body);
      const { prepared, refused, warnings } = prepare(plan, services);
      const applied = await services.store.applyImport(prepared);
      // new users' wallets load from the store with the refresh balancesChanged ends with
      await services.balancesChanged(applied.changes);
      const counts = applied.counts;
      for (const k of IMPORT_KINDS) counts[k].skipped += plan.skipped[k] + refused[k];
      const report: ImportReport = {
        source: plan.source,
        path: plan.path,
        flavor: plan.flavor,
        quota_per_unit: plan.quota_per_unit,
        dry_run: false,
        counts,
        skipped_channel_types: plan.skipped_channel_types,
        not_imported: plan.not_imported,
        suggested_settings: plan.suggested_settings,
        warnings: [...plan.warnings, ...warnings, ...applied.warnings],
      };
      return report;
    },
    { bodyLimit: PLAN_BODY_LIMIT },
  );
}

export interface Prepared {
  prepared: PreparedImport;
  /** entries refused by validation, per kind */
  refused: Record<(typeof IMPORT_KINDS)[number], number>;
  warnings: string[];
}

/** Exported for the stores' tests, which build their PreparedImport exactly as this route does. */
export function prepare(plan: ImportPlan, services: Pick<Services, 'secrets'>): Prepared {
  const refused = { channels: 0, keys: 0, users: 0, codes: 0, prices: 0, groups: 0 };
  const warnings: string[] = [];
  /** Each entry through its reader; one that fails is counted and named, not fatal. */
  const each = <In, Out>(kind: keyof typeof refused, list: In[], read: (x: In, i: number) => Out): Out[] => {
    const out: Out[] = [];
    list.forEach((x, i) => {
      try {
        out.push(read(x, i));
      } catch (e) {
        refused[kind]++;
        warnings.push(`${kind}[${i}] ${describe(x)}: skipped: ${refusal(e)}`);
      }
    });
    return out;
  };
  const prepared: PreparedImport = {
    source: plan.source,
    pricesMode: plan.prices_mode,
    users: each('users', plan.users, validateUser),
    channels: each('channels', plan.channels, (c) => sealChannel(c, services)),
    keys: each('keys', plan.keys, hashKey),
    codes: each('codes', plan.codes, validateCode),
    prices: each('prices', plan.prices, (p) => price(validatePrice(p))),
    groups: each('groups', plan.groups, validateGroup),
  };
  return { prepared, refused, warnings };
}

function describe(x: unknown): string {
  const o = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
  const name = o.name ?? o.model ?? o.prefix;
  const id: unknown = o.source_id ?? (Array.isArray(o.source_ids) ? (o.source_ids[0] as unknown) : undefined);
  return `${typeof name === 'string' ? `"${name}"` : ''}${typeof id === 'number' ? ` (#${id})` : ''}`.trim();
}

function sealChannel(c: PlanChannel, services: Pick<Services, 'secrets'>): PreparedChannel {
  const fields = validateChannelCreate({
    name: c.name,
    type: c.type,
    keys: c.keys,
    models: c.models,
    base_url: c.base_url,
    map: c.map,
    groups: c.groups,
    priority: c.priority,
    weight: c.weight,
    region: c.region,
    api_version: c.api_version,
  });
  if (!Array.isArray(c.source_ids) || c.source_ids.length === 0)
    throw invalid('source_ids', 'must list the source rows');
  const disabled = Array.isArray(c.key_disabled) ? c.key_disabled : [];
  const status = c.status === 'disabled' || c.status === 'auto_disabled' ? c.status : 'enabled';
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.settings ?? {})) if (typeof v === 'string') settings[k] = v;
  return {
    sourceIds: c.source_ids.map((id, i) => sourceId(id, `source_ids[${i}]`)),
    record: {
      ...storedFields(fields),
      status,
      statusReason:
        status === 'enabled' ? null : typeof c.status_reason === 'string' ? c.status_reason : null,
      secrets: fields.keys.map((k, i) => ({
        enc: services.secrets.encrypt(k),
        masked: maskSecret(k),
        disabledReason: typeof disabled[i] === 'string' ? disabled[i] : null,
      })),
      settings,
    },
  };
}

function hashKey(k: PlanKey): PreparedKey {
  const f = validateKeyCreate({
    name: k.token_name,
    budget: k.budget,
    expires_at: k.expires_at,
    models: k.models,
    allow_ips: k.allow_ips,
  });
  if (typeof k.secret !== 'string' || k.secret.length < 4 || /\s/.test(k.secret))
    throw invalid('secret', 'is missing');
  return {
    sourceId: sourceId(k.source_id, 'source_id'),
    userSourceId: sourceId(k.user_source_id, 'user_source_id'),
    tokenName: f.name,
    hash: hashKeySecret(k.secret),
    prefix: typeof k.prefix === 'string' && k.prefix !== '' ? k.prefix.slice(0, 16) : k.secret.slice(0, 7),
    budget: f.budget,
    spent: sourceId(k.spent, 'spent'),
    expiresAt: f.expiresAt,
    models: f.models,
    allowIps: f.allowIps,
    status: k.status === 'disabled' ? 'disabled' : 'enabled',
    createdAt: k.created_at === null || typeof k.created_at !== 'string' ? null : k.created_at,
  };
}

/** A price override; without a completion ratio, output follows the catalog's output/input ratio, else input. */
function price(p: ReturnType<typeof validatePrice>): PriceRecord {
  let output = p.output;
  if (output === null) {
    const catalog = resolve(p.model, [], Date.now()).price;
    const ratio = catalog !== undefined && catalog.input > 0 ? catalog.output / catalog.input : 1;
    output = roundHalfUp(p.input * ratio);
  }
  return {
    model: p.model,
    input: p.input,
    output,
    cacheRead: p.cache_read,
    cacheWrite: p.cache_write,
    perRequest: p.per_request,
    maxOutputTokens: null,
    source: 'override',
  };
}
