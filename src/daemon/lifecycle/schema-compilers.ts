/**
 * Fastify's schema compilers, built only if a route ever declares a schema. Fastify requires its
 * validator (@fastify/ajv-compiler, which loads all of ajv) and its serializer compiler
 * (fast-json-stringify) when an instance is created, whether or not any route has a schema; no
 * route of either daemon app has one (bodies are checked by our own intake and codecs), so that
 * is about 2.5 MB of resident memory for nothing. Handing Fastify builders that `require` its own
 * compilers on first use keeps the behaviour a schema would get (the same ajv and
 * fast-json-stringify, with the same options), except that Fastify then treats the validator as
 * a custom one and leaves a headers schema's property names as written instead of lower-casing them.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type Builder = (...args: unknown[]) => unknown;

// resolved from Fastify's own location: they are its dependencies, not ours
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));

/** One builder per app, as Fastify makes it (it caches compilers by their options). */
function lazyBuilder(pkg: string): Builder {
  let build: Builder | undefined;
  return (...args) => {
    build ??= (fromFastify(pkg) as () => Builder)();
    return build(...args);
  };
}

/** The `schemaController` option of both daemon apps. */
export function lazySchemaController(): NonNullable<FastifyServerOptions['schemaController']> {
  return {
    compilersFactory: {
      buildValidator: lazyBuilder('@fastify/ajv-compiler') as never,
      buildSerializer: lazyBuilder('@fastify/fast-json-stringify-compiler') as never,
    },
  };
}
