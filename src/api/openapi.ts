import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z, type ZodType } from 'zod';
import { TOLK_VERSION } from '../version.js';

/** A documented response whose body is not JSON (`text/plain`, `text/xml`, `audio/wav`…). */
export interface DocsContent {
  description?: string;
  content: Record<string, { schema: ZodType }>;
}

/** A documented response without a body (204, or a redirect). */
export interface DocsNoContent {
  description: string;
  noContent: true;
}

/**
 * An outgoing request Tolk makes to a URL the caller gave (OpenAPI `callbacks`): `url` is a runtime
 * expression such as `{$request.body#/webhook_url}`, `body` the JSON Tolk posts.
 */
export interface DocsCallback {
  url: string;
  description: string;
  body: ZodType;
}

/**
 * Zod schemas that only document a route in `/api/openapi.json`, for surfaces that validate by hand
 * (their own error shapes, spec 001–004): Fastify neither validates nor serializes with them, the route
 * keeps parsing its input with the same zod schema itself. Put it in the route's `schema.docs`.
 */
export interface RouteDocs {
  body?: ZodType;
  /** Content types of `body` when it is not `application/json` (e.g. Twilio's form posts). */
  consumes?: string[];
  /** The body may be left out (`requestBody.required: false`; @fastify/swagger marks every body required). */
  bodyOptional?: boolean;
  querystring?: ZodType;
  params?: ZodType;
  headers?: ZodType;
  /** Response schemas by status code (`200`, `400`…): a zod schema of a JSON body, or another body. */
  response?: Record<number, ZodType | DocsContent | DocsNoContent>;
  /** Requests Tolk sends to a URL of the request (webhooks out), by event name. */
  callbacks?: Record<string, DocsCallback>;
}

declare module 'fastify' {
  interface FastifySchema {
    /** Documentation-only zod schemas ({@link RouteDocs}); see `src/api/openapi.ts`. */
    docs?: RouteDocs;
  }
}

/** A response of `contentType` (not JSON) for {@link RouteDocs.response}. */
export function contentResponse(contentType: string, description: string, schema: ZodType = z.string()): DocsContent {
  return { description, content: { [contentType]: { schema } } };
}

/** A response without a body for {@link RouteDocs.response}. */
export function noContent(description: string): DocsNoContent {
  return { description, noContent: true };
}

/**
 * Routes registered outside `src/api/` (in `src/app.ts`) that carry no schema: documented here by
 * `METHOD url`.
 */
const OUTSIDE_ROUTES: Record<string, FastifySchema> = {
  'GET /metrics': {
    tags: ['health'], summary: 'Prometheus metrics (text exposition format 0.0.4)', security: [],
    docs: { response: { 200: contentResponse('text/plain', 'Prometheus metrics of this process: streams, latencies, engines (docs/operations.md).') } },
  },
};

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];
type TransformOutput = ReturnType<typeof jsonSchemaTransform>;

/** OpenAPI `callbacks` of {@link RouteDocs.callbacks}, as JSON Schema for OpenAPI 3.0. */
function callbackObjects(callbacks: Record<string, DocsCallback>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, c] of Object.entries(callbacks)) {
    const schema = z.toJSONSchema(c.body, { target: 'openapi-3.0', io: 'input' });
    out[name] = {
      [c.url]: {
        post: {
          description: c.description,
          requestBody: { content: { 'application/json': { schema } } },
          responses: { '2XX': { description: 'Delivered. Anything else (or no answer in time) is retried.' } },
        },
      },
    };
  }
  return out;
}

/**
 * The OpenAPI transform: a route's `schema.docs` zod schemas take the place of `body`,
 * `querystring`, `params`, `headers` and `response`, then `jsonSchemaTransform` turns zod into JSON
 * Schema as it does for the platform's validating schemas. Responses without a body become
 * `{type: "null"}` (no content in the document).
 */
function transform(document: TransformInput): TransformOutput {
  const method = [document.route.method].flat()[0] ?? '';
  const schema = (document.schema as FastifySchema | undefined) ?? OUTSIDE_ROUTES[`${method} ${document.url}`];
  if (!schema?.docs) return jsonSchemaTransform(document);
  const { docs, ...rest } = schema;
  const { response, callbacks, bodyOptional, ...inputs } = docs;
  const bodies: Record<number, ZodType | DocsContent> = {};
  const empty: Record<number, { type: 'null'; description: string }> = {};
  for (const [status, r] of Object.entries(response ?? {})) {
    if ('noContent' in r) empty[Number(status)] = { type: 'null', description: r.description };
    else bodies[Number(status)] = r;
  }
  const result = jsonSchemaTransform({ ...document, schema: { ...rest, ...inputs, response: bodies } as TransformInput['schema'] });
  const out = result.schema as Record<string, unknown> & { response?: Record<number, unknown> };
  out.response = { ...out.response, ...empty };
  if (callbacks) out.callbacks = callbackObjects(callbacks);
  if (bodyOptional) out[BODY_OPTIONAL] = true;
  return result;
}

/** Marks an operation whose body may be left out, from {@link transform} to {@link transformObject}. */
const BODY_OPTIONAL = 'x-tolk-body-optional';

type OpenApiOperation = Record<string, unknown> & { requestBody?: { required?: boolean } };
type DocumentObject = { openapiObject: unknown } | { swaggerObject: unknown };

/** The finished document: operations marked {@link BODY_OPTIONAL} get `requestBody.required: false`. */
function transformObject(document: DocumentObject): never {
  const object = ('openapiObject' in document ? document.openapiObject : document.swaggerObject) as { paths?: Record<string, Record<string, OpenApiOperation>> };
  for (const ops of Object.values(object.paths ?? {})) {
    for (const op of Object.values(ops)) {
      if (!(BODY_OPTIONAL in op)) continue;
      delete op[BODY_OPTIONAL];
      if (op.requestBody) op.requestBody.required = false;
    }
  }
  // The same object, returned as @fastify/swagger's own document type (OpenAPI 3.0 or Swagger 2).
  return object as never;
}

/**
 * Registers `@fastify/swagger` on the root instance, before any surface, so that every route of
 * every surface (platform, spec 001's room session, spec 002's session token, conversations, calls, webhooks, health,
 * metrics) reaches `/api/openapi.json` (served by the platform, docs/platform.md "OpenAPI").
 * Routes with `schema.hide` (the docs UI's own assets, the web app's pages and static files) are left out.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Tolk API',
        version: TOLK_VERSION,
        description: 'Real-time voice translation. Every HTTP route of every surface: platform (spec 000), LiveKit room session (spec 001), streaming session token (spec 002), conversations (spec 003), calls (spec 004), inbound webhooks (Stripe, Vapi, LiveKit, Twilio), health and metrics. Outgoing call webhooks are the callbacks of POST /v1/sessions. The WebSocket protocols (/vt, /api/v1/ws/…, /v1/sessions/{id}/connect) are not HTTP routes and are described in docs/stream-protocol.md, docs/conversations.md and docs/calls.md.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key: ip_live_… or ip_test_…' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'The stream surface\'s form (spec 002): `Authorization: api-key <API key>` (also `Bearer <key>`).' },
        },
      },
      security: [{ bearer: [] }],
    },
    transform,
    transformObject,
  });
}
