import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { ZodType } from 'zod';
import { TOLK_VERSION } from '../version.js';

/**
 * Zod schemas that only document a route in `/api/openapi.json`, for surfaces that validate by hand
 * (their own error shapes, spec 001–004): Fastify neither validates nor serializes with them, the route
 * keeps parsing its input with the same zod schema itself. Put it in the route's `schema.docs`.
 */
export interface RouteDocs {
  body?: ZodType;
  querystring?: ZodType;
  params?: ZodType;
  /** Response schemas by status code (`200`, `400`…). */
  response?: Record<number, ZodType>;
}

declare module 'fastify' {
  interface FastifySchema {
    /** Documentation-only zod schemas ({@link RouteDocs}); see `src/api/openapi.ts`. */
    docs?: RouteDocs;
  }
}

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

/**
 * The OpenAPI transform: a route's `schema.docs` zod schemas take the place of `body`,
 * `querystring`, `params` and `response`, then `jsonSchemaTransform` turns zod into JSON Schema as
 * it does for the platform's validating schemas.
 */
function transform(document: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const schema = document.schema as FastifySchema | undefined;
  if (!schema?.docs) return jsonSchemaTransform(document);
  const { docs, ...rest } = schema;
  return jsonSchemaTransform({ ...document, schema: { ...rest, ...docs } as TransformInput['schema'] });
}

/**
 * Registers `@fastify/swagger` on the root instance, before any surface, so that every route of
 * every surface (platform, spec 001's token and session, conversations, calls, webhooks, health,
 * metrics) reaches `/api/openapi.json` (served by the platform, docs/platform.md "OpenAPI").
 * Routes with `schema.hide` (the docs UI's own assets, the web app's static files) are left out.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Tolk API',
        version: TOLK_VERSION,
        description: 'Real-time voice translation. Every HTTP route of every surface: platform (spec 000), streaming token and room session (spec 001), calls (spec 002), conversations (spec 003), webhooks, health, metrics. WebSocket routes are listed as GET with a description of the upgrade.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key: ip_live_… or ip_test_…' } } },
      security: [{ bearer: [] }],
    },
    transform,
  });
}
