import { Ajv, type ValidateFunction } from 'ajv';

/** The parts of an OpenAPI 3.0 document the checks read. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

/** One operation of {@link OpenApiDocument}. */
export interface OpenApiOperation {
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
  parameters?: Array<{ in: string; name: string }>;
}

/** A real HTTP answer to check against the document. */
export interface ObservedResponse {
  method: string;
  /** The route as Fastify knows it (`/v1/sessions/:id`). */
  route: string;
  status: number;
  contentType: string;
  text: string;
}

/** Fastify's `:param` → OpenAPI's `{param}` (as @fastify/swagger writes them). */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}');
}

/**
 * Checks real responses against the response schemas of an OpenAPI 3.0 document with ajv (the
 * validator Fastify itself uses; `nullable` is understood). Returns one message per mismatch:
 * an undocumented status, an undocumented content type, a body where none is documented, or the
 * schema's errors with the body.
 */
export function responseChecker(doc: OpenApiDocument): (r: ObservedResponse) => string[] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const compiled = new Map<unknown, ValidateFunction>();
  return (r) => {
    const where = `${r.method} ${r.route} → ${r.status}`;
    const op = doc.paths[openApiPath(r.route)]?.[r.method.toLowerCase()];
    if (!op) return [`${where}: the operation is not in the document`];
    const documented = op.responses?.[String(r.status)];
    if (!documented) return [`${where}: status not documented (documented: ${Object.keys(op.responses ?? {}).join(', ')})`];
    if (!documented.content) return r.text === '' ? [] : [`${where}: documented without a body, answered ${r.text.slice(0, 200)}`];
    const mediaType = r.contentType.split(';')[0]?.trim() ?? '';
    const schema = documented.content[mediaType]?.schema;
    if (schema === undefined) return [`${where}: content type ${mediaType} not documented (documented: ${Object.keys(documented.content).join(', ')})`];
    let validate = compiled.get(schema);
    if (!validate) {
      validate = ajv.compile(schema as object);
      compiled.set(schema, validate);
    }
    let body: unknown = r.text;
    if (mediaType.endsWith('json')) {
      try {
        body = JSON.parse(r.text);
      } catch {
        return [`${where}: not JSON: ${r.text.slice(0, 200)}`];
      }
    }
    if (validate(body)) return [];
    return [`${where}: ${ajv.errorsText(validate.errors)} in ${r.text.slice(0, 400)}`];
  };
}
