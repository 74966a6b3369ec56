/**
 * Per-model output-token limits, for the worst-case budget reservation of a request that sets no
 * `max_tokens`. The price catalog lists context windows but not output limits, so they come from
 * the `llm-zoo` package (maintained model metadata, bundled data, nothing fetched), keyed by the
 * catalog model each of its entries matches, so a dated or aliased name finds the limit of the
 * model it is priced as. Where several entries land on one catalog model the largest limit wins:
 * a reservation may be too large, never too small. Models neither lists take their limit from
 * data/prices.json; the rest have none, and the gateway assumes 4,096 tokens.
 *
 * The package is read and indexed on the first lookup, as the price catalog is (catalog.ts):
 * lookups are synchronous, so its CommonJS build is `require`d then; a daemon that never asks
 * for a limit never holds it.
 */
import { createRequire } from 'node:module';
import type { ModelConfig } from 'llm-zoo';
import type { ChannelType } from '../../shared/control-api.js';
import { matchCatalog } from './catalog.js';
import { supplement } from './supplement.js';

/** llm-zoo's provider names -> the channel type whose catalog provider prices the same models. */
const ZOO_PROVIDER: Record<string, ChannelType> = {
  anthropic: 'anthropic',
  openai: 'openai',
  google: 'gemini',
  deepseek: 'deepseek',
  xai: 'xai',
};

export const OUTPUT_LIMITS_PACKAGE = 'llm-zoo';

let byCatalogModel: Map<string, number> | undefined;
let byName: Map<string, number> | undefined;

function build(): void {
  const zoo = createRequire(import.meta.url)(OUTPUT_LIMITS_PACKAGE) as {
    MODEL_CONFIGS: Record<string, ModelConfig>;
  };
  byCatalogModel = new Map();
  byName = new Map();
  for (const c of Object.values(zoo.MODEL_CONFIGS)) {
    if (!Number.isSafeInteger(c.maxOutputTokens) || c.maxOutputTokens <= 0) continue;
    raise(byName, c.fullName, c.maxOutputTokens);
    const type = ZOO_PROVIDER[c.provider];
    const hit = matchCatalog(c.fullName, type ? [type] : []);
    if (hit) raise(byCatalogModel, hit.model.id, c.maxOutputTokens);
  }
}

function raise(map: Map<string, number>, key: string, n: number): void {
  map.set(key, Math.max(map.get(key) ?? 0, n));
}

/**
 * The output limit of `name` (priced as catalog model `catalogModel`, when it is). A cloud's
 * own spelling (`us.anthropic.claude-opus-4-8-v1:0`) also finds its maker's model.
 */
export function outputLimit(name: string, catalogModel: string | undefined): number | null {
  if (!byCatalogModel || !byName) build();
  const fromCatalog = catalogModel === undefined ? undefined : byCatalogModel!.get(catalogModel);
  if (fromCatalog !== undefined) return fromCatalog;
  const exact = byName!.get(name);
  if (exact !== undefined) return exact;
  const maker = makerName(name);
  const made = maker === name ? undefined : matchCatalog(maker, []);
  const viaMaker = made && byCatalogModel!.get(made.model.id);
  const own = supplement().outputLimits;
  return (
    viaMaker ??
    own.get(name) ??
    (catalogModel === undefined ? undefined : own.get(catalogModel)) ??
    own.get(maker) ??
    null
  );
}

/** Strips a cloud's region, vendor prefix and version suffix: `eu.anthropic.x-v1:0` -> `x`. */
function makerName(name: string): string {
  return name
    .replace(/^(?:[a-z]{2,6}\.)?(?:anthropic|openai|google|meta|mistral|deepseek|amazon|cohere|qwen)\./, '')
    .replace(/-v\d+(?::\d+)?$/, '')
    .replace(/@.*$/, '');
}
