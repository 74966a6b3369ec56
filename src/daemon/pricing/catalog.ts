/**
 * The price catalog: the provider data bundled in the `@pydantic/genai-prices` package, read in
 * memory. Nothing is fetched at run time (the package's own auto-update is never enabled), so
 * upgrading the package is what updates prices, and `catalog@VERSION` names the data in force.
 * A model name is matched the way the catalog expects: by the match rules of the providers the
 * serving channel's type stands for (a Bedrock channel asks AWS's rules, a Gemini channel
 * Google's), then by any provider whose rules claim the name, then once more with a `-YYYYMMDD`
 * date written `-YYYY-MM-DD`. Matches are pure functions of the name, so they are cached.
 *
 * The package's data is loaded on the first match, not at start: it is 4-6 MB of resident memory
 * that a daemon whose models are all priced by `bc price set` rows, or that serves nothing yet,
 * never reads. Lookups are synchronous on the request path, so the first one `require`s the
 * package's CommonJS build (the same providers and prices as its ES build, minified: 1.7 MB of
 * heap against 3.0 MB) and pays its load (about 0.1 s) once per process.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { MatchLogic, ModelInfo, Provider, ProviderFindOptions } from '@pydantic/genai-prices';
import type { ChannelType } from '../../shared/control-api.js';

export const CATALOG_PACKAGE = '@pydantic/genai-prices';

const requirePackage = createRequire(import.meta.url);
let catalog: { findProvider(options: ProviderFindOptions): Provider | undefined } | undefined;

/** The package's lookup, its data read on the first call. */
function findProvider(options: ProviderFindOptions): Provider | undefined {
  catalog ??= requirePackage(CATALOG_PACKAGE) as NonNullable<typeof catalog>;
  return catalog.findProvider(options);
}

/** The catalog providers whose prices a channel type pays, tried in order; [] = the name decides. */
const PROVIDERS: Record<ChannelType, readonly string[] | null> = {
  openai: ['openai'],
  // the catalog's Azure entry falls back to OpenAI, Anthropic, DeepSeek, xAI and Moonshot itself
  azure: ['azure'],
  anthropic: ['anthropic'],
  gemini: ['google'],
  bedrock: ['aws'],
  // DashScope is not in the catalog: Qwen prices come from data/prices.json
  qwen: [],
  deepseek: ['deepseek'],
  groq: ['groq'],
  mistral: ['mistral'],
  openrouter: ['openrouter'],
  xai: ['x-ai'],
  together: ['together'],
  'openai-compatible': [],
  // self-hosted: no per-token list price exists; an override prices them
  ollama: null,
  vllm: null,
};

/** A catalog model a name matched, and the provider whose entry it is. */
export interface CatalogMatch {
  provider: string;
  model: ModelInfo;
}

let version: string | undefined;

/** The installed catalog package's version, read from its package.json once. */
export function catalogVersion(): string {
  if (version === undefined) {
    const entry = requirePackage.resolve(CATALOG_PACKAGE);
    let dir = path.dirname(entry);
    while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof pkg.version !== 'string') throw new Error(`${CATALOG_PACKAGE} has no version`);
    version = pkg.version;
  }
  return version;
}

export function catalogSource(): `catalog@${string}` {
  return `catalog@${catalogVersion()}`;
}

/** Whether the catalog is consulted at all for this channel type. */
export function catalogPrices(type: ChannelType): boolean {
  return PROVIDERS[type] !== null;
}

const matches = new Map<string, CatalogMatch | null>();

/**
 * The catalog model for `name` served by channels of `types` (in the order the router tries
 * them); undefined when the catalog does not list it.
 */
export function matchCatalog(name: string, types: readonly ChannelType[]): CatalogMatch | undefined {
  const providers = [...new Set(types.flatMap((t) => PROVIDERS[t] ?? []))];
  const byName = types.length === 0 || types.some((t) => PROVIDERS[t] !== null);
  const cacheKey = `${providers.join(',')}|${byName ? 1 : 0}|${name}`;
  let hit = matches.get(cacheKey);
  if (hit === undefined) {
    const dated = withIsoDate(name);
    hit =
      find(name, providers, byName) ?? (dated === name ? undefined : find(dated, providers, byName)) ?? null;
    matches.set(cacheKey, hit);
  }
  return hit ?? undefined;
}

function find(name: string, providers: readonly string[], byName: boolean): CatalogMatch | undefined {
  for (const id of providers) {
    const p = findProvider({ providerId: id });
    const hit = p && inProvider(p, name);
    if (hit) return hit;
  }
  if (!byName) return undefined;
  const p = findProvider({ modelId: name });
  return p && inProvider(p, name);
}

/** The provider's own models first, then those of the providers it names as fallbacks. */
function inProvider(p: Provider, name: string, depth = 0): CatalogMatch | undefined {
  const own = p.models.find((m) => matchesName(m.match, name));
  if (own) return { provider: p.id, model: own };
  if (depth > 0) return undefined;
  for (const id of p.fallback_model_providers ?? []) {
    const f = findProvider({ providerId: id });
    const hit = f && inProvider(f, name, depth + 1);
    if (hit) return hit;
  }
  return undefined;
}

const regexes = new Map<string, RegExp>();

/** The catalog's match rules, as its own calculator applies them (case-insensitive but regex). */
export function matchesName(rule: MatchLogic, name: string): boolean {
  const lower = name.toLowerCase();
  if ('or' in rule) return rule.or.some((r) => matchesName(r, name));
  if ('and' in rule) return rule.and.every((r) => matchesName(r, name));
  if ('equals' in rule) return lower === rule.equals.toLowerCase();
  if ('starts_with' in rule) return lower.startsWith(rule.starts_with.toLowerCase());
  if ('ends_with' in rule) return lower.endsWith(rule.ends_with.toLowerCase());
  if ('contains' in rule) return lower.includes(rule.contains.toLowerCase());
  let re = regexes.get(rule.regex);
  if (!re) regexes.set(rule.regex, (re = new RegExp(rule.regex)));
  return re.test(name);
}

/** `claude-x-20250514` -> `claude-x-2025-05-14`: the catalog's second try for dated names. */
function withIsoDate(name: string): string {
  return name.replace(
    /-(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)/g,
    (whole, y: string, m: string, d: string) => {
      const t = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
      return t.getUTCMonth() === Number(m) - 1 ? `-${y}-${m}-${d}` : whole;
    },
  );
}
