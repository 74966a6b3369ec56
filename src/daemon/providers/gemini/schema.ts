/**
 * JSON Schema (what OpenAI tools and response_format carry) -> the OpenAPI 3.0 subset Gemini
 * accepts in `parameters` and `responseSchema`. Gemini answers 400 for keys it does not know
 * (`additionalProperties`, `$schema`, `strict`...), for string formats other than `enum` and
 * `date-time`, for `required` names that are not properties and for objects with empty
 * `properties`, so this keeps an allowlist instead of chasing a blocklist. Local `$ref`s are
 * inlined (Gemini has no references), to a bounded depth because schemas may be recursive.
 */

type Json = Record<string, unknown>;

const COPIED = [
  'description',
  'title',
  'nullable',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minProperties',
  'maxProperties',
  'pattern',
  'propertyOrdering',
] as const;

const FORMATS: Record<string, readonly string[]> = {
  string: ['enum', 'date-time'],
  number: ['float', 'double'],
  integer: ['int32', 'int64'],
};

const MAX_REF_DEPTH = 8;

/**
 * A schema that allows any value (`{"description": ...}` alone, as Claude Code's Workflow tool gives
 * its `args`): Gemini wants a type or alternatives on every nested schema, and refuses an OBJECT
 * without properties, so the nearest it takes is any scalar or a list of strings.
 */
const ANY_VALUE: Json = {
  anyOf: [
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'array', items: { type: 'string' } },
  ],
};

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function resolveRef(ref: string, defs: Json): Json | undefined {
  const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
  const target = m?.[1] === undefined ? undefined : defs[m[1]];
  return isRecord(target) ? target : undefined;
}

/** `type: ["string","null"]` is JSON Schema's nullable; Gemini wants one type plus `nullable`. */
function applyType(node: Json, out: Json, defs: Json, depth: number): void {
  const types = Array.isArray(node.type) ? node.type.filter((t): t is string => typeof t === 'string') : [];
  if (typeof node.type === 'string') {
    out.type = node.type;
  } else if (types.length > 0) {
    const real = types.filter((t) => t !== 'null');
    if (real.length < types.length) out.nullable = true;
    if (real.length === 1) out.type = real[0];
    else if (real.length > 1) out.anyOf = real.map((t) => convert({ ...node, type: t }, defs, depth));
  }
  const type = typeof out.type === 'string' ? out.type.toLowerCase() : undefined;
  if (typeof node.format === 'string' && type !== undefined && FORMATS[type]?.includes(node.format)) {
    out.format = node.format;
  }
}

function applyChildren(node: Json, out: Json, defs: Json, depth: number): void {
  if (isRecord(node.properties)) {
    const props: Json = {};
    for (const [k, v] of Object.entries(node.properties)) props[k] = convertNested(v, defs, depth);
    if (Object.keys(props).length > 0) out.properties = props;
    if (Array.isArray(node.required)) {
      const required = node.required.filter((r): r is string => typeof r === 'string' && r in props);
      if (required.length > 0) out.required = required;
    }
  }
  if (node.items !== undefined && !Array.isArray(node.items))
    out.items = convertNested(node.items, defs, depth);
  const alternatives = Array.isArray(node.anyOf)
    ? node.anyOf
    : Array.isArray(node.oneOf)
      ? node.oneOf
      : undefined;
  if (alternatives !== undefined) {
    const nonNull = alternatives.filter((a) => !(isRecord(a) && a.type === 'null'));
    if (nonNull.length < alternatives.length) out.nullable = true;
    if (nonNull.length === 1) Object.assign(out, convert(nonNull[0], defs, depth));
    else if (nonNull.length > 1) out.anyOf = nonNull.map((a) => convert(a, defs, depth));
  }
}

function convert(input: unknown, defs: Json, depth: number): Json {
  if (!isRecord(input)) return {};
  let node = input;
  if (typeof node.$ref === 'string') {
    const target = depth < MAX_REF_DEPTH ? resolveRef(node.$ref, defs) : undefined;
    if (target === undefined) return { type: 'object' };
    node = { ...target, ...node, $ref: undefined };
    depth += 1;
  }
  const out: Json = {};
  applyType(node, out, defs, depth);
  for (const key of COPIED) if (node[key] !== undefined) out[key] = node[key];
  if (Array.isArray(node.enum) && node.enum.every((e) => typeof e === 'string')) {
    out.enum = node.enum;
  } else if (typeof node.const === 'string') {
    out.enum = [node.const];
  }
  applyChildren(node, out, defs, depth);
  return out;
}

/** A nested schema: Gemini refuses one with neither a type nor alternatives. */
function convertNested(input: unknown, defs: Json, depth: number): Json {
  const out = convert(input, defs, depth);
  if (out.type === undefined && out.anyOf === undefined && out.enum === undefined)
    Object.assign(out, ANY_VALUE);
  return out;
}

/** A JSON Schema -> Gemini's schema subset. */
export function toGeminiSchema(schema: unknown): Json {
  const defs: Json = {};
  if (isRecord(schema)) {
    if (isRecord(schema.definitions)) Object.assign(defs, schema.definitions);
    if (isRecord(schema.$defs)) Object.assign(defs, schema.$defs);
  }
  return convert(schema, defs, 0);
}

/**
 * Tool parameters: Gemini rejects an OBJECT without properties, and a function that takes no
 * arguments is declared by leaving `parameters` out.
 */
export function toGeminiParameters(schema: unknown): Json | undefined {
  if (schema === undefined) return undefined;
  const out = toGeminiSchema(schema);
  const type = typeof out.type === 'string' ? out.type.toLowerCase() : undefined;
  if ((type === 'object' || type === undefined) && out.properties === undefined && out.anyOf === undefined) {
    return undefined;
  }
  return out;
}
